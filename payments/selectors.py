"""Scoped reads of the ledger: a company's people see its accounts and their postings, a hub's officers its tax
account's; the platform's own accounts (escrow, fees, FX, provider, rail) only staff."""

from django.db.models import QuerySet

from hubs.scoping import restrict, selector_for
from payments.models import Account, Payment, Payout, Posting, Tranche


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


@selector_for(Payout)
def payouts_for(actor) -> QuerySet[Payout]:
    """A seller's payouts with their tranches (and the officers' of the orders through their hub)."""
    return restrict(Payout.objects.select_related("order", "corridor").prefetch_related("tranches"), actor)


@selector_for(Tranche)
def tranches_for(actor) -> QuerySet[Tranche]:
    return restrict(Tranche.objects.select_related("payout"), actor)


def order_money(*, actor, order) -> dict | None:
    """The order page's money section: its latest payment and its payout with the tranches, as the reader may see
    them; None before any payment."""
    payment = payments_for(actor).filter(order=order).order_by("-created_at", "-pk").first()
    payout = payouts_for(actor).filter(order=order).first()
    return None if payment is None and payout is None else {"payment": payment, "payout": payout}
