"""Ledger writes: accounts, transactions that balance per currency, posted at once or pending (two-phase)
then posted or voided, and reversals. Every transaction carries an idempotency key: posting the same key
again returns the first transaction and posts nothing; the same key with other postings is refused."""

import functools
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from hubs.fx import fx_rate_on
from hubs.kernel.audit import audit_event_record
from hubs.kernel.background import enqueue_on_commit
from hubs.kernel.errors import DomainError
from hubs.kernel.money import MAX_AMOUNT, allocate, minor_unit, round_money
from hubs.kernel.transitions import transition
from hubs.models import COMPANY_ROLES
from hubs.scoping import require_role
from hubs.selectors import hub_today
from payments.models import (
    CORRIDOR_CHANGED,
    PAYOUT_NOT_SCHEDULED,
    Account,
    AccountKind,
    Corridor,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Posting,
    ReconciliationRun,
    Side,
    Tranche,
    TrancheStatus,
    TransactionStatus,
)
from payments.providers import Charge, ProviderTimeout, payment_provider
from payments.rails import Ack, RailRefused, RailTimeout, bank_rail
from payments.reconciliation import reconcile
from trade.models import Order, OrderStatus
from trade.services import order_mark_paid, order_refund

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


def _sql(*statements: tuple[str, list]) -> tuple | None:
    """Run (sql, params) statements on the ledger's connection; the last one's first row, if it returns rows.
    psycopg2 binds parameters on the client, so PostgreSQL takes them in one round trip, one after the other;
    other drivers take one statement at a time."""
    connection = transaction.get_connection()
    if len(statements) > 1 and connection.Database.__name__ == "psycopg2":
        statements = [
            ("; ".join(sql for sql, _ in statements), [value for _, params in statements for value in params])
        ]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


@functools.cache
def _name(model, field: str | None = None) -> str:
    """The quoted table name of `model`, or of one of its fields' columns."""
    name = model._meta.get_field(field).column if field else model._meta.db_table
    return transaction.get_connection().ops.quote_name(name)


def _drawn_here(row: LedgerTransaction, alias: str = "") -> tuple[str, list]:
    """A condition on the transactions table (as `alias`) that holds for `row` alone once this post inserted it: the
    transaction of its key with the public id drawn for it here (one posted before under the key has another)."""
    key, public_id = _name(LedgerTransaction, "key"), _name(LedgerTransaction, "public_id")
    return f"{alias}{key} = %s AND {alias}{public_id} = %s", [row.key, row.public_id]


def _totals_update(
    postings: Iterable[tuple[int, str, Decimal]],
    *,
    add: str | None,
    subtract: str | None = None,
    posting: LedgerTransaction | None = None,
) -> tuple[str, list]:
    """The statement that adds each posting's (account id, side, amount) to its account's `add` totals (posted or
    pending) and takes it off `subtract`: one UPDATE whatever the number of accounts, which first locks them in id
    order (so that transactions over the same accounts queue rather than deadlock); with `posting`, only if that
    transaction is being posted (not one of its key posted before). Written as SQL: the ORM's expressions for it
    cost more than the rest of a posting."""
    changes = defaultdict(lambda: defaultdict(lambda: ZERO))
    for account_id, side, amount in postings:
        if add:
            changes[account_id][_totals_column(side, add)] += amount
        if subtract:
            changes[account_id][_totals_column(side, subtract)] -= amount
    ids = sorted(changes)
    table, pk = _name(Account), _name(Account, "id")
    assignments, params = [], []
    for column in sorted({column for deltas in changes.values() for column in deltas}):
        deltas = [(account_id, changes[account_id][column]) for account_id in ids if column in changes[account_id]]
        assignments.append(
            f"{_name(Account, column)} = {_name(Account, column)} + CASE {pk} "
            f"{' '.join(['WHEN %s THEN %s'] * len(deltas))} ELSE 0 END"
        )
        params += [value for delta in deltas for value in delta]
    condition, condition_params = ("1 = 1", [])
    if posting:
        drawn, condition_params = _drawn_here(posting)
        condition = f"EXISTS (SELECT 1 FROM {_name(LedgerTransaction)} WHERE {drawn})"
    lock = " FOR NO KEY UPDATE" if transaction.get_connection().features.has_select_for_update else ""
    return (
        f"UPDATE {table} SET {', '.join(assignments)} WHERE {pk} IN (SELECT {pk} FROM {table} "
        f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))}) AND {condition} ORDER BY {pk}{lock})",
        [*params, *ids, *condition_params],
    )


def _transaction_insert(row: LedgerTransaction) -> tuple[str, list]:
    """The statement that inserts the transaction unless its key is taken (`ON CONFLICT DO NOTHING`, which
    PostgreSQL and SQLite both speak). A concurrent insert of the same key makes it wait, then find it taken."""
    connection = transaction.get_connection()
    fields = [field for field in LedgerTransaction._meta.concrete_fields if not field.primary_key]
    return (
        f"INSERT INTO {_name(LedgerTransaction)} ({', '.join(_name(LedgerTransaction, f.name) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({_name(LedgerTransaction, 'key')}) DO NOTHING",
        [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields],
    )


def _postings_insert(posted: LedgerTransaction, legs: Sequence[Leg]) -> tuple[str, list]:
    """The statement that inserts the legs' postings, if `posted` is being posted (not one of its key before),
    returning its id (no row: the key was posted before)."""
    columns = ", ".join(_name(Posting, f) for f in ("transaction", "account", "side", "amount", "amount_currency"))
    drawn, drawn_params = _drawn_here(posted, alias="t.")
    values = [(leg.account.pk, leg.side, leg.amount.amount, leg.amount.currency.code) for leg in legs]
    return (
        f"INSERT INTO {_name(Posting)} ({columns}) "
        f"SELECT t.{_name(LedgerTransaction, 'id')}, v.column1, v.column2, v.column3, v.column4 "
        f"FROM {_name(LedgerTransaction)} t CROSS JOIN (VALUES {', '.join(['(%s, %s, %s, %s)'] * len(legs))}) v "
        f"WHERE {drawn} RETURNING {_name(Posting, 'transaction')}",
        [*(value for row in values for value in row), *drawn_params],
    )


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

    The transaction, its postings and its accounts' totals are written by statements that each do nothing when the
    key was posted before, sent together (one round trip on PostgreSQL). The accounts are locked in id order, so
    that concurrent transactions over them queue rather than deadlock; a concurrent post of the same key waits for
    the first, then returns it.
    """
    _check(legs)
    fingerprint = _fingerprint(legs, description, pending)
    posted = LedgerTransaction(
        key=key,
        fingerprint=fingerprint,
        description=description,
        order_ref=order_ref,
        status=TransactionStatus.PENDING if pending else TransactionStatus.POSTED,
        reverses=reverses,
        created_by=actor.user if actor and actor.user.is_authenticated else None,
    )
    totals = ((leg.account.pk, leg.side, leg.amount.amount) for leg in legs)
    # No savepoint: nothing inside raises but the database, and then the caller's transaction is lost anyway.
    with transaction.atomic(savepoint=False):
        inserted = _sql(
            _transaction_insert(posted),
            _totals_update(totals, add=posted.status, posting=posted),
            _postings_insert(posted, legs),
        )
    if inserted is None:
        return _already_posted(key, fingerprint)
    posted.pk, posted._state.adding, posted._state.db = inserted[0], False, transaction.get_connection().alias
    return posted


def _already_posted(key: str, fingerprint: str) -> LedgerTransaction | None:
    posted = LedgerTransaction.objects.filter(key=key).first()
    if posted is not None and posted.fingerprint != fingerprint:
        raise DomainError(
            f"The idempotency key {key} was used for other postings ({posted.public_id}).", code="ledger_key_reused"
        )
    return posted


def _postings_of(posted: LedgerTransaction):
    return posted.postings.values_list("account_id", "side", "amount")


def ledger_post_pending(*, actor, pending: LedgerTransaction, reason: str = "") -> LedgerTransaction:
    """Post a pending transaction: its reserved amounts become posted ones. Once."""
    with transaction.atomic():
        posted = transition(pending, TransactionStatus.POSTED, actor=actor, reason=reason)
        _sql(_totals_update(_postings_of(posted), add=TransactionStatus.POSTED, subtract=TransactionStatus.PENDING))
    return posted


def ledger_void(*, actor, pending: LedgerTransaction, reason: str = "") -> LedgerTransaction:
    """Void a pending transaction: its reserved amounts are released and nothing is posted. Once."""
    with transaction.atomic():
        voided = transition(pending, TransactionStatus.VOIDED, actor=actor, reason=reason)
        _sql(_totals_update(_postings_of(voided), add=None, subtract=TransactionStatus.PENDING))
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


# --- payments in: the buyer's money into escrow, the duties to the hub, the seller's share on delivery ----------


def _escrow(currency: str) -> Account:
    return platform_account(AccountKind.ESCROW, currency)


def payment_start(*, actor, order: Order, method: str, payer_name: str = "") -> Payment:
    """Charge the buyer the order's total (the quote's, in the destination hub's currency) through the provider;
    the payer is the buyer unless `payer_name` says otherwise (import customs then hold the order).

    The charge is captured into escrow at once, declined, or pending until the provider confirms it (its webhook,
    or the sweeper looking it up). The provider is called outside any transaction: no row stays locked across it.
    """
    require_role(actor, order.company, *COMPANY_ROLES)
    provider = payment_provider()
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True, of=("self",)).get(
            pk=order.pk
        )  # one payment attempt at a time
        if order.status != OrderStatus.PLACED:
            raise DomainError(
                f"{order.public_id} is {order.get_status_display().lower()}: only a placed order is paid.",
                code="not_payable",
                attr="order",
            )
        if order.payments.filter(status=PaymentStatus.PENDING).exists():
            raise DomainError(
                f"A payment of {order.public_id} is awaiting the provider: wait for its outcome.",
                code="payment_in_progress",
                attr="order",
            )
        payment = Payment.objects.create(
            order=order,
            amount=order.total,
            payer_name=payer_name.strip() or order.buyer.name,
            method=method,
            provider=provider.name,
        )
    try:
        charge = provider.charge(key=payment.public_id, amount=payment.amount, method=method)
    except ProviderTimeout:
        return payment  # pending: the sweeper asks the provider what became of it
    return payment_settle(payment=payment, charge=charge)


def payment_settle(*, payment: Payment, charge: Charge) -> Payment:
    """Apply what the provider says of a payment's charge (from the charge call, a webhook or a look-up), once:
    a duplicate or late confirmation changes nothing. A capture for an order cancelled meanwhile is refunded."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(no_key=True, of=("self",)).select_related("order").get(pk=payment.pk)
        )
        if charge.ref and not payment.provider_ref:
            payment.provider_ref = charge.ref
            payment.save(update_fields=["provider_ref"])
        if payment.status != PaymentStatus.PENDING or charge.status == "pending":
            return payment
        if charge.status == "declined":
            payment.decline_reason = charge.reason[:300]
            payment.save(update_fields=["decline_reason"])
            return transition(payment, PaymentStatus.DECLINED, actor=None, reason=charge.reason)
        payment.captured_at = timezone.now()
        payment.save(update_fields=["captured_at"])
        payment = transition(payment, PaymentStatus.CAPTURED, actor=None)
        _capture_into_escrow(payment)
        order = payment.order
        if order.can_become(OrderStatus.PAID):
            order_mark_paid(order=order, reason=f"{payment.public_id} captured into escrow")
        else:  # cancelled while the provider was deciding: the money goes back
            from payments.tasks import payment_refund_task  # the tasks call these services

            enqueue_on_commit(payment_refund_task, payment.pk)
    return payment


def _capture_into_escrow(payment: Payment) -> None:
    """The buyer's money into escrow (posted), and the seller's share reserved for it (pending until delivery)."""
    order, amount = payment.order, payment.amount
    currency = amount.currency.code
    escrow = _escrow(currency)
    ledger_post(
        actor=None,
        key=f"capture:{payment.public_id}",
        description=f"{payment.public_id}: the buyer's payment of {order.public_id} into escrow",
        legs=[debit(platform_account(AccountKind.PROVIDER, currency), amount), credit(escrow, amount)],
        order_ref=order.public_id,
    )
    seller = account_for(kind=AccountKind.COMPANY, company=order.company, currency=currency)
    share = amount - order.duties_and_taxes
    payment.release = ledger_post(
        actor=None,
        key=f"release:{payment.public_id}",
        description=f"{order.public_id}: the seller's share, released from escrow on delivery",
        legs=[debit(escrow, share), credit(seller, share)],
        order_ref=order.public_id,
        pending=True,
    )
    payment.save(update_fields=["release"])


def _captured_payment(order: Order) -> Payment | None:
    return order.payments.filter(status__in=[PaymentStatus.CAPTURED, PaymentStatus.REFUNDED]).first()


def duties_to_hub(*, order: Order) -> LedgerTransaction | None:
    """On import release: the quoted duties and taxes move from escrow to the destination hub's tax account, in
    one transaction per order (posting it again posts nothing)."""
    duties, payment = order.duties_and_taxes, _captured_payment(order)
    if duties.amount <= 0 or payment is None:
        return None
    currency = duties.currency.code
    payment.duties = ledger_post(
        actor=None,
        key=f"duties:{order.public_id}",
        description=f"{order.public_id}: duties and taxes collected for {order.destination_hub.code}",
        legs=[
            debit(_escrow(currency), duties),
            credit(account_for(kind=AccountKind.HUB_TAX, hub=order.destination_hub, currency=currency), duties),
        ],
        order_ref=order.public_id,
    )
    payment.save(update_fields=["duties"])
    return payment.duties


def escrow_release(*, order: Order) -> LedgerTransaction | None:
    """On delivery: the seller's share, reserved at capture, is posted to its account. Once."""
    payment = _captured_payment(order)
    if payment is None or payment.release is None or payment.release.status != TransactionStatus.PENDING:
        return None
    return ledger_post_pending(actor=None, pending=payment.release, reason=f"{order.public_id} delivered")


def payment_refund(*, actor, payment: Payment, reason: str = "") -> Payment:
    """Give the buyer its money back from escrow: the provider refunds (on a key of its own, so a retry never
    refunds twice), the seller's reserved share is voided, escrow pays the provider back, and the order, where it
    may, becomes refunded. Refunding again changes nothing."""
    if payment.status == PaymentStatus.REFUNDED:
        return payment
    order = payment.order
    if payment.status != PaymentStatus.CAPTURED:
        raise DomainError(f"{payment.public_id} was never captured: there is nothing to refund.", code="not_refundable")
    if payment.release is not None and payment.release.status == TransactionStatus.POSTED:
        raise DomainError(
            f"{order.public_id} was delivered and its seller paid: a return is settled with the seller.",
            code="not_refundable",
        )
    refund_ref = payment_provider().refund(
        key=f"refund:{payment.public_id}", ref=payment.provider_ref, amount=payment.amount
    )
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(no_key=True, of=("self",))
            .select_related("order", "release")
            .get(pk=payment.pk)
        )
        if payment.status == PaymentStatus.REFUNDED:
            return payment
        if payment.release is not None and payment.release.status == TransactionStatus.PENDING:
            ledger_void(actor=actor, pending=payment.release, reason=reason or "refunded")
        currency = payment.amount.currency.code
        ledger_post(
            actor=actor,
            key=f"refund:{payment.public_id}",
            description=f"{payment.public_id}: refunded to the buyer of {order.public_id}",
            legs=[
                debit(_escrow(currency), payment.amount),
                credit(platform_account(AccountKind.PROVIDER, currency), payment.amount),
            ],
            order_ref=order.public_id,
        )
        payment = transition(payment, PaymentStatus.REFUNDED, actor=actor, reason=reason, data={"refund": refund_ref})
        if payment.order.can_become(OrderStatus.REFUNDED):
            order_refund(actor=actor, order=payment.order, reason=reason)
    return payment


def order_refund_requested(*, actor, order: Order, reason: str = "") -> Payment:
    """The seller cancels a paid order before it is declared for export: the buyer is refunded."""
    require_role(actor, order.company, *COMPANY_ROLES)
    order = Order.objects.get(pk=order.pk)  # as it is now; `payment_refund` locks what it changes
    if order.status != OrderStatus.PAID:
        raise DomainError(
            f"{order.public_id} is {order.get_status_display().lower()}: a paid order is refunded before it is "
            "declared for export (an unpaid one is cancelled).",
            code="not_refundable",
        )
    return payment_refund(actor=actor, payment=_captured_payment(order), reason=reason)


# --- reconciliation -----------------------------------------------------------------------------------------


def reconciliation_run(*, start: date | None = None, end: date | None = None) -> ReconciliationRun:
    """Reconcile the books (`payments.reconciliation`) and keep what was found, for the console to show."""
    if start and end and start > end:
        raise ValueError(f"The period ends ({end}) before it starts ({start}).")
    differences = reconcile(start, end)
    return ReconciliationRun.objects.create(
        period_from=start, period_to=end, differences=[difference.as_dict() for difference in differences]
    )


# --- payouts: the seller's proceeds home through its corridor, in tranches under the caps ----------------------


def corridor_for(order: Order) -> Corridor | None:
    """The corridor from the buyer's country (the destination hub's) to the seller's, if the platform has one."""
    return Corridor.objects.filter(
        from_country=order.destination_hub.country, to_country=order.company.country, active=True
    ).first()


def _conversion(order: Order, proceeds: Money, corridor: Corridor) -> tuple[Money, dict, list[Leg]]:
    """The proceeds in the corridor's currency at the reference rate less the corridor's spread, what that used,
    and the legs that post it (the spread to the platform's FX account); no legs when no conversion is needed."""
    currency = corridor.currency
    if proceeds.currency.code == currency:
        return proceeds, {}, []
    rate = fx_rate_on(proceeds.currency.code, currency, hub_today(order.destination_hub))
    converted = rate.convert(proceeds)
    mid = converted.amount
    spread = Money(round_money(mid.amount * corridor.fx_spread, currency), currency)
    gross = mid - spread
    legs = [
        debit(account_for(kind=AccountKind.COMPANY, company=order.company, currency=proceeds.currency.code), proceeds),
        credit(platform_account(AccountKind.TRADING, proceeds.currency.code), proceeds),
        debit(platform_account(AccountKind.TRADING, currency), mid),
        credit(account_for(kind=AccountKind.COMPANY, company=order.company, currency=currency), gross),
    ]
    if spread.amount:
        legs.append(credit(platform_account(AccountKind.FX, currency), spread))
    conversion = {
        "from": str(proceeds),
        "rate": str(rate.rate),
        "rate_source": rate.provenance,
        "snapshots": [snapshot.pk for snapshot in rate.snapshots],
        "at_reference_rate": str(mid),
        "spread": str(corridor.fx_spread),
        "spread_amount": str(spread),
        "to": str(gross),
        "explanation": f"{converted.explanation}, less a spread of {spread}",
    }
    return gross, conversion, legs


def _tranche_fee(corridor: Corridor, part: Money) -> Money:
    currency = part.currency.code
    return Money(corridor.flat_fee + round_money(part.amount * corridor.percent_fee, currency), currency)


def _send_days(corridor: Corridor, company, parts: list[Money], start: date) -> list[date]:
    """The day each part is sent: in order, from `start`, a day's parts (with what the company already has
    scheduled on the corridor that day) never over the corridor's daily cap."""
    if corridor.daily_cap is None:
        return [start] * len(parts)
    taken = defaultdict(lambda: ZERO)
    scheduled = Tranche.objects.filter(
        payout__company=company, payout__corridor=corridor, send_on__gte=start
    ).values_list("send_on", "amount", "fee")
    for day, amount, fee in scheduled:
        taken[day] += amount + fee
    days, day = [], start
    for part in parts:
        while taken[day] and taken[day] + part.amount > corridor.daily_cap:
            day += timedelta(days=1)
        taken[day] += part.amount
        days.append(day)
    return days


def payout_schedule(*, order: Order) -> Payout | None:
    """On delivery, once the seller's share is posted: its proceeds converted into the corridor's currency and
    split into tranches of at most the per-transfer cap (exactly, with `allocate`), each with its fee, scheduled
    day by day within the daily cap. Once per order; None when the route has no corridor, or when the proceeds
    would not cover its fees (they stay on the seller's account, unconverted; an audit event says why)."""
    payment = _captured_payment(order)
    corridor = corridor_for(order)
    if payment is None or corridor is None or payment.release.status != TransactionStatus.POSTED:
        return None
    with transaction.atomic():
        Order.objects.select_for_update(no_key=True, of=("self",)).get(pk=order.pk)  # one schedule per order
        existing = Payout.objects.filter(order=order).first()
        if existing is not None:
            return existing
        proceeds = payment.amount - order.duties_and_taxes
        gross, conversion, conversion_legs = _conversion(order, proceeds, corridor)
        cap = Money(corridor.per_transfer_cap, corridor.currency)
        transfers = max(1, math.ceil(gross.amount / cap.amount))
        parts = allocate(gross, [1] * transfers)
        fees = [_tranche_fee(corridor, part) for part in parts]
        if any(fee >= part for fee, part in zip(fees, parts, strict=True)):  # stays on the seller's account
            audit_event_record(
                actor=None,
                verb=PAYOUT_NOT_SCHEDULED,
                target=order,
                data={"proceeds": str(gross), "fee": str(fees[0]), "corridor": str(corridor)},
            )
            return None
        if conversion_legs:
            ledger_post(
                actor=None,
                key=f"fx:{order.public_id}",
                description=f"{order.public_id}: the seller's proceeds converted into {corridor.currency}",
                legs=conversion_legs,
                order_ref=order.public_id,
            )
        start = hub_today(order.destination_hub)
        days = _send_days(corridor, order.company, parts, start)
        total_fees = sum(fees[1:], fees[0])
        payout = Payout.objects.create(
            company=order.company,
            order=order,
            corridor=corridor,
            gross=gross,
            fees=total_fees,
            net=gross - total_fees,
            conversion=conversion,
            expected_completion=days[-1] + timedelta(days=corridor.settlement_days),
        )
        Tranche.objects.bulk_create(
            Tranche(payout=payout, number=n, amount=part - fee, fee=fee, send_on=day)
            for n, (part, fee, day) in enumerate(zip(parts, fees, days, strict=True), start=1)
        )
        from payments.tasks import tranche_send_task  # the tasks call these services

        for tranche in payout.tranches.filter(send_on__lte=start):
            enqueue_on_commit(tranche_send_task, tranche.pk)
    return payout


def tranche_send(*, tranche: Tranche) -> Tranche:
    """Send a due tranche over the rail under its idempotency key, and settle it once the rail acknowledges.
    A rail that refuses puts it back to be sent again; one that times out leaves it sending, for the sweeper to
    ask again with the same key (the rail makes one transfer per key, so nothing is ever paid twice)."""
    with transaction.atomic():
        tranche = (
            Tranche.objects.select_for_update(no_key=True, of=("self",))
            .select_related("payout__order")
            .get(pk=tranche.pk)
        )
        if tranche.status == TrancheStatus.SCHEDULED:
            if tranche.send_on > hub_today(tranche.payout.order.destination_hub):
                return tranche
            tranche.attempts += 1
            tranche.sending_since = timezone.now()
            tranche.save(update_fields=["attempts", "sending_since"])
            tranche = transition(tranche, TrancheStatus.SENDING, actor=None)
        elif tranche.status != TrancheStatus.SENDING:
            return tranche  # settled before
    rail = bank_rail()
    try:
        ack = rail.send(key=tranche.key, amount=tranche.amount, beneficiary=tranche.payout.company.legal_name)
    except RailRefused as refused:
        return transition(tranche, TrancheStatus.SCHEDULED, actor=None, reason=str(refused))
    except RailTimeout:
        return tranche  # sending: the sweeper asks again with the same key
    return _tranche_settle(tranche, ack)


def _tranche_settle(tranche: Tranche, ack: Ack) -> Tranche:
    with transaction.atomic():
        tranche = (
            Tranche.objects.select_for_update(no_key=True, of=("self",)).select_related("payout").get(pk=tranche.pk)
        )
        if tranche.status != TrancheStatus.SENDING:
            return tranche  # a duplicate acknowledgement: settled already
        tranche.rail_ref, tranche.settled_at = ack.ref, timezone.now()
        tranche.save(update_fields=["rail_ref", "settled_at"])
        tranche = transition(tranche, TrancheStatus.SETTLED, actor=None, data={"rail_ref": ack.ref})
        payout = tranche.payout
        currency = tranche.amount.currency.code
        legs = [
            debit(
                account_for(kind=AccountKind.COMPANY, company=payout.company, currency=currency),
                tranche.amount + tranche.fee,
            ),
            credit(platform_account(AccountKind.RAIL, currency), tranche.amount),
        ]
        if tranche.fee.amount:
            legs.append(credit(platform_account(AccountKind.FEES, currency), tranche.fee))
        ledger_post(
            actor=None,
            key=tranche.key,
            description=f"{payout.public_id} tranche {tranche.number}: sent to the seller ({ack.ref})",
            legs=legs,
            order_ref=payout.order_ref,
        )
        if not payout.tranches.exclude(status=TrancheStatus.SETTLED).exists():
            Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.SETTLED)
    return tranche


def corridor_save(*, actor, corridor: Corridor, changed: list[str]) -> Corridor:
    """Save a corridor's figures (the console's form has checked them), with an audit event naming what changed."""
    with transaction.atomic():
        corridor.save()
        audit_event_record(
            actor=actor,
            verb=CORRIDOR_CHANGED,
            target=corridor,
            data={"corridor": str(corridor), "changed": {name: str(getattr(corridor, name)) for name in changed}},
        )
    return corridor
