"""Reconciliation: the ledger proven against itself and against the payments it records.

- every account's kept totals (posted and pending, by side) equal the sums of its postings;
- every transaction balances in every currency;
- escrow holds, in each currency, exactly what the open captures leave in it: each captured payment's amount,
  less the duties already moved to the hub and the seller's share already released.
- every transfer on the bank rail's statement matches exactly one tranche, of its amount, and every settled
  tranche has its transfer.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, DecimalField, F, When

from hubs.kernel.money import CENT, AmountSum
from payments.models import (
    Account,
    AccountKind,
    Payment,
    PaymentStatus,
    Posting,
    Side,
    Tranche,
    TrancheStatus,
    TransactionStatus,
)
from payments.rails import bank_rail

ZERO = Decimal(0)


@dataclass(frozen=True)
class Difference:
    check: str  # account_totals, transaction_balance, escrow
    subject: str
    expected: str
    found: str

    def __str__(self):
        return f"{self.check}: {self.subject}: expected {self.expected}, found {self.found}"

    def as_dict(self) -> dict:
        return {"check": self.check, "subject": self.subject, "expected": self.expected, "found": self.found}


def _signed():
    return Case(
        When(side=Side.DEBIT, then=F("amount")),
        default=-F("amount"),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )


def _account_totals() -> list[Difference]:
    sums = defaultdict(lambda: ZERO)
    rows = Posting.objects.values_list("account_id", "side", "transaction__status").annotate(total=AmountSum("amount"))
    for account_id, side, status, total in rows.order_by():
        if status != TransactionStatus.VOIDED:
            sums[account_id, f"{'debits' if side == Side.DEBIT else 'credits'}_{status}"] += total
    differences = []
    for account in Account.objects.select_related("company", "hub").order_by("pk"):
        for column in ("debits_posted", "credits_posted", "debits_pending", "credits_pending"):
            kept, summed = getattr(account, column), sums[account.pk, column]
            if kept != summed:
                differences.append(Difference("account_totals", f"{account} ({column})", f"{summed}", f"{kept}"))
    return differences


def _transaction_balances(start: date | None, end: date | None) -> list[Difference]:
    postings = Posting.objects.all()
    if start:
        postings = postings.filter(transaction__created_at__date__gte=start)
    if end:
        postings = postings.filter(transaction__created_at__date__lte=end)
    unbalanced = (
        postings.values_list("transaction__public_id", "amount_currency")
        .annotate(difference=AmountSum(_signed()))
        .exclude(difference__gt=-CENT / 2, difference__lt=CENT / 2)  # a float's residue is not a difference
        .order_by("transaction__public_id")
    )
    return [
        Difference("transaction_balance", f"{ref} in {currency}", "debits = credits", f"debits − credits = {diff}")
        for ref, currency, diff in unbalanced
    ]


def _escrow() -> list[Difference]:
    expected = defaultdict(lambda: ZERO)
    captured = Payment.objects.filter(status=PaymentStatus.CAPTURED).select_related("order", "release", "duties")
    for payment in captured:
        held = payment.amount.amount
        if payment.duties_id is not None:
            held -= payment.order.duties_and_taxes.amount
        if payment.release is not None and payment.release.status == TransactionStatus.POSTED:
            held -= (payment.amount - payment.order.duties_and_taxes).amount
        expected[payment.amount.currency.code] += held
    found = {a.currency: a.balance.amount for a in Account.objects.filter(kind=AccountKind.ESCROW)}
    return [
        Difference("escrow", f"escrow {currency}", f"{expected[currency]}", f"{found.get(currency, ZERO)}")
        for currency in sorted(set(expected) | set(found))
        if expected[currency] != found.get(currency, ZERO)
    ]


def _rail_transfers() -> list[Difference]:
    tranches = {tranche.key: tranche for tranche in Tranche.objects.select_related("payout")}
    statement = bank_rail().statement()
    made = Counter(transfer.key for transfer in statement)
    differences = []
    for transfer in statement:
        tranche = tranches.get(transfer.key)
        subject = f"rail transfer {transfer.ref} ({transfer.key})"
        if tranche is None:
            differences.append(Difference("rail_transfers", subject, "a tranche of its key", "none"))
        elif made[transfer.key] > 1:
            differences.append(Difference("rail_transfers", subject, "one transfer", f"{made[transfer.key]}"))
        elif transfer.amount != tranche.amount:
            differences.append(Difference("rail_transfers", subject, f"{tranche.amount}", f"{transfer.amount}"))
    for key, tranche in tranches.items():
        if tranche.status == TrancheStatus.SETTLED and not made[key]:
            differences.append(Difference("rail_transfers", f"tranche {tranche}", "its rail transfer", "none"))
    return differences


def reconcile(start: date | None = None, end: date | None = None) -> list[Difference]:
    """Every difference found; none when the books are right. `start` and `end` bound the transactions checked
    for balance; account totals, escrow and the rail's transfers are checked whole, as they stand.

    Every check reads one snapshot of the books, so that a transaction posted by a worker meanwhile (between
    reading the postings and the accounts' totals) is not taken for a difference."""
    with transaction.atomic():
        connection = transaction.get_connection()
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:  # not inside a caller's
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return [*_account_totals(), *_transaction_balances(start, end), *_escrow(), *_rail_transfers()]
