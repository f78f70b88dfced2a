"""Scoped reads of the ledger: a company's people see its accounts and their postings, a hub's officers its tax
account's; the platform's own accounts (escrow, fees, FX, provider, rail) only staff."""

from django.db.models import QuerySet

from hubs.scoping import restrict, selector_for
from payments.models import Account, Payment, Posting


@selector_for(Account)
def accounts_for(actor) -> QuerySet[Account]:
    return restrict(Account.objects.select_related("company", "hub"), actor)


@selector_for(Posting)
def postings_for(actor) -> QuerySet[Posting]:
    """Postings newest first, each with its transaction: an account's statement, filtered by account."""
    return restrict(Posting.objects.select_related("transaction", "account"), actor)


@selector_for(Payment)
def payments_for(actor) -> QuerySet[Payment]:
    """Payments of the orders the actor may see: the seller's, and those of orders through the officer's hub."""
    return restrict(Payment.objects.select_related("order"), actor)
