"""Ledger writes: accounts, transactions that balance per currency, posted at once or pending (two-phase)
then posted or voided, and reversals. Every transaction carries an idempotency key: posting the same key
again returns the first transaction and posts nothing; the same key with other postings is refused."""

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from djmoney.money import Money

from hubs.kernel.errors import DomainError
from hubs.kernel.money import MAX_AMOUNT, minor_unit
from hubs.kernel.transitions import transition
from payments.models import Account, LedgerTransaction, Posting, Side, TransactionStatus

ZERO = Decimal(0)


@dataclass(frozen=True)
class Leg:
    """One side of a transaction to post: `amount` debited or credited to `account`."""

    account: Account
    side: str
    amount: Money


def debit(account: Account, amount: Money) -> Leg:
    return Leg(account, Side.DEBIT, amount)


def credit(account: Account, amount: Money) -> Leg:
    return Leg(account, Side.CREDIT, amount)


def account_for(*, kind: str, currency: str, company=None, hub=None) -> Account:
    """The account of `kind` in `currency` (a company's, a hub's tax account, or the platform's), made on first use."""
    owner = {"company": company, "hub": hub}
    try:
        with transaction.atomic():
            account, _ = Account.objects.get_or_create(kind=kind, currency=currency, **owner)
    except IntegrityError:  # made by a concurrent first use
        account = Account.objects.get(kind=kind, currency=currency, **owner)
    return account


def platform_account(kind: str, currency: str) -> Account:
    return account_for(kind=kind, currency=currency)


def _check(legs: Sequence[Leg]) -> None:
    """Refuse legs that could not stand in a ledger: each above zero, in its account's currency, within its minor
    unit and the stored range; debits equal to credits in every currency."""
    if len(legs) < 2:
        raise DomainError("A transaction has at least two postings.", code="unbalanced")
    sums = defaultdict(lambda: ZERO)
    for i, leg in enumerate(legs):
        amount, currency = leg.amount.amount, leg.amount.currency.code
        attr = f"postings.{i}.amount"
        if leg.side not in Side.values:
            raise DomainError(f"A posting is a debit or a credit, not “{leg.side}”.", code="invalid", attr=attr)
        if currency != leg.account.currency:
            raise DomainError(
                f"{leg.account} is kept in {leg.account.currency}, not {currency}.", code="wrong_currency", attr=attr
            )
        if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
            raise DomainError(
                f"A posting is above zero and at most {MAX_AMOUNT:,}: {amount}.", code="invalid_amount", attr=attr
            )
        if amount != amount.quantize(minor_unit(currency)):
            raise DomainError(
                f"{currency} {amount} has more decimals than {currency} has.", code="too_many_decimals", attr=attr
            )
        sums[currency] += amount if leg.side == Side.DEBIT else -amount
    unbalanced = {currency: total for currency, total in sums.items() if total}
    if unbalanced:
        differences = ", ".join(f"{currency} {total:+}" for currency, total in sorted(unbalanced.items()))
        raise DomainError(f"Debits and credits differ: {differences} (debits less credits).", code="unbalanced")


def _fingerprint(legs: Sequence[Leg], description: str, pending: bool) -> str:
    parts = sorted(f"{leg.account.pk}:{leg.side}:{leg.amount.amount}:{leg.amount.currency}" for leg in legs)
    return hashlib.sha256("\n".join([description, str(pending), *parts]).encode()).hexdigest()


def _totals_column(side: str, status: str) -> str:
    return f"{'debits' if side == Side.DEBIT else 'credits'}_{status}"


def _move_totals(postings, *, add: str | None, subtract: str | None = None) -> None:
    """Add each posting's amount to its account's `add` totals (posted or pending) and take it off `subtract`."""
    changes = defaultdict(lambda: defaultdict(lambda: ZERO))
    for posting in postings:
        amount = posting.amount.amount
        if add:
            changes[posting.account_id][_totals_column(posting.side, add)] += amount
        if subtract:
            changes[posting.account_id][_totals_column(posting.side, subtract)] -= amount
    for account_id, columns in sorted(changes.items()):
        Account.objects.filter(pk=account_id).update(**{column: F(column) + delta for column, delta in columns.items()})


def ledger_post(
    *,
    actor,
    key: str,
    description: str,
    legs: Sequence[Leg],
    order_ref: str = "",
    pending: bool = False,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Post `legs` as one transaction under the idempotency key `key`, at once or pending (two-phase).

    The accounts are locked (in id order, so that concurrent transactions queue rather than deadlock) before
    the key is looked up: a concurrent post of the same key waits, then finds the first one.
    """
    _check(legs)
    fingerprint = _fingerprint(legs, description, pending)
    try:
        with transaction.atomic():
            list(Account.objects.select_for_update().filter(pk__in={leg.account.pk for leg in legs}).order_by("pk"))
            posted = _already_posted(key, fingerprint)
            if posted is not None:
                return posted
            posted = LedgerTransaction.objects.create(
                key=key,
                fingerprint=fingerprint,
                description=description,
                order_ref=order_ref,
                status=TransactionStatus.PENDING if pending else TransactionStatus.POSTED,
                reverses=reverses,
                created_by=actor.user if actor and actor.user.is_authenticated else None,
            )
            postings = Posting.objects.bulk_create(
                Posting(transaction=posted, account=leg.account, side=leg.side, amount=leg.amount) for leg in legs
            )
            _move_totals(postings, add=posted.status)
    except IntegrityError:
        posted = _already_posted(key, fingerprint)  # posted meanwhile over other accounts
        if posted is None:
            raise
    return posted


def _already_posted(key: str, fingerprint: str) -> LedgerTransaction | None:
    posted = LedgerTransaction.objects.filter(key=key).first()
    if posted is not None and posted.fingerprint != fingerprint:
        raise DomainError(
            f"The idempotency key {key} was used for other postings ({posted.public_id}).", code="ledger_key_reused"
        )
    return posted


def ledger_post_pending(*, actor, pending: LedgerTransaction, reason: str = "") -> LedgerTransaction:
    """Post a pending transaction: its reserved amounts become posted ones. Once."""
    with transaction.atomic():
        posted = transition(pending, TransactionStatus.POSTED, actor=actor, reason=reason)
        _move_totals(posted.postings.all(), add=TransactionStatus.POSTED, subtract=TransactionStatus.PENDING)
    return posted


def ledger_void(*, actor, pending: LedgerTransaction, reason: str = "") -> LedgerTransaction:
    """Void a pending transaction: its reserved amounts are released and nothing is posted. Once."""
    with transaction.atomic():
        voided = transition(pending, TransactionStatus.VOIDED, actor=actor, reason=reason)
        _move_totals(voided.postings.all(), add=None, subtract=TransactionStatus.PENDING)
    return voided


def ledger_reverse(*, actor, posted: LedgerTransaction, reason: str) -> LedgerTransaction:
    """Undo a posted transaction with its mirror image (postings are never changed). Reversing twice reverses once."""
    reversal = LedgerTransaction.objects.filter(reverses=posted).first()
    if reversal is not None:
        return reversal
    if posted.status != TransactionStatus.POSTED:
        raise DomainError(
            f"{posted.public_id} is {posted.get_status_display().lower()}: only a posted transaction is reversed "
            "(a pending one is voided).",
            code="invalid_transition",
        )
    legs = [
        Leg(p.account, Side.CREDIT if p.side == Side.DEBIT else Side.DEBIT, p.amount)
        for p in posted.postings.select_related("account")
    ]
    return ledger_post(
        actor=actor,
        key=f"reversal:{posted.key}",
        description=f"Reversal of {posted.public_id}: {reason}"[:300],
        legs=legs,
        order_ref=posted.order_ref,
        reverses=posted,
    )
