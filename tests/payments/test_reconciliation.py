"""Reconciliation: clean books say so; every kind of difference is found, listed, and makes `reconcile` fail; and
any interleaving of payments, the order's journey, refunds, payouts and sweeps leaves the books clean."""

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone
from djmoney.money import Money

from customs.models import OPEN_STATUSES, Direction, Lane, RiskRule, RiskRuleKind
from customs.services import declaration_decide, declaration_file
from hubs.kernel.errors import DomainError
from hubs.models import Membership, Role
from hubs.scoping import actor_for
from payments.models import (
    Account,
    AccountKind,
    Corridor,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    ReconciliationRun,
    Tranche,
    TrancheStatus,
)
from payments.reconciliation import reconcile
from payments.services import credit, debit, ledger_post, order_refund_requested, payment_start, platform_account
from payments.tasks import cancel_unpaid_orders_task, payments_sweep_task, tranches_due_task
from tests.conftest import ecb_rates_on
from tests.payments.conftest import deliver
from tests.tenants import session_client
from tests.webhooks import post_signed
from trade.models import Order, OrderStatus
from trade.services import order_cancel, order_deliver, order_ship


def run_reconcile(*args):
    """`manage.py reconcile`'s output, and whether it failed."""
    from io import StringIO

    out = StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    except CommandError as failed:
        return out.getvalue(), str(failed)
    return out.getvalue(), None


def test_clean_books_reconcile(place_order, hkg, committed):
    order = place_order()
    payment_start(actor=actor_for(hkg.seller_admin.user), order=order, method="sim_ok")
    with committed():
        deliver(order)
    assert reconcile() == []
    out, failed = run_reconcile()
    assert failed is None
    assert "no difference" in out
    assert ReconciliationRun.objects.get().clean


def test_sums_of_many_cents_reconcile_on_every_database(db):
    # SQLite sums decimals as floats: CNY 1,234.57 and 0.07 a hundred times each came back as 123464.000000001
    provider, fees = platform_account(AccountKind.PROVIDER, "CNY"), platform_account(AccountKind.FEES, "CNY")
    for n in range(200):
        amount = Money("1234.57" if n % 2 else "0.07", "CNY")
        ledger_post(
            actor=None, key=f"cents-{n}", description="Cents", legs=[debit(provider, amount), credit(fees, amount)]
        )
    assert reconcile() == []


def test_a_kept_total_that_differs_from_its_postings_is_found(place_order, hkg):
    payment_start(actor=actor_for(hkg.seller_admin.user), order=place_order(), method="sim_ok")
    Account.objects.filter(kind=AccountKind.ESCROW).update(credits_posted=Money(1, "CNY").amount)
    out, failed = run_reconcile()
    assert "account_totals" in out
    assert "credits_posted" in out
    assert failed.endswith("difference(s) found.")


def test_escrow_that_does_not_hold_what_the_open_captures_leave_is_found(place_order, hkg):
    payment_start(actor=actor_for(hkg.seller_admin.user), order=place_order(), method="sim_ok")
    ledger_post(  # balanced, but takes money out of escrow that no order released
        actor=None,
        key="stray",
        description="A stray transfer",
        legs=[
            debit(platform_account(AccountKind.ESCROW, "CNY"), Money("5.00", "CNY")),
            credit(platform_account(AccountKind.FEES, "CNY"), Money("5.00", "CNY")),
        ],
    )
    (difference,) = reconcile()
    assert (difference.check, difference.subject) == ("escrow", "escrow CNY")


def test_an_unbalanced_transaction_written_below_the_services_is_found(db):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL's trigger refuses it before it can be found (tests/payments/test_ledger.py)")
    provider, escrow = platform_account(AccountKind.PROVIDER, "CNY"), platform_account(AccountKind.ESCROW, "CNY")
    row = LedgerTransaction.objects.create(key="raw", fingerprint="-", description="Raw SQL")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_posting (transaction_id, account_id, side, amount, amount_currency) "
            "VALUES (%s, %s, 'debit', 10, 'CNY'), (%s, %s, 'credit', 9, 'CNY')",
            [row.pk, provider.pk, row.pk, escrow.pk],
        )
    checks = {difference.check for difference in reconcile()}
    assert "transaction_balance" in checks
    today = timezone.localdate()
    assert "transaction_balance" not in {d.check for d in reconcile(today + timedelta(days=1))}  # outside the period
    assert "transaction_balance" in {d.check for d in reconcile(today - timedelta(days=1), today + timedelta(days=1))}


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--from", "yesterday"], "--from takes a date"), (["--from", "2026-12-02", "--to", "2026-12-01"], "before")],
)
def test_a_bad_period_is_refused(args, message, db):
    _, failed = run_reconcile(*args)
    assert message in failed
    assert not ReconciliationRun.objects.exists()


def test_the_console_shows_runs_and_reconciles_now_for_staff_only(place_order, hkg, hgh, admin_client):
    payment_start(actor=actor_for(hkg.seller_admin.user), order=place_order(), method="sim_ok")
    response = admin_client.post("/admin/payments/reconciliationrun/run/", follow=True)
    assert "The books reconcile." in response.content.decode()
    assert ReconciliationRun.objects.get().clean
    officer = session_client(hgh.supervisor)
    assert officer.get("/admin/payments/reconciliationrun/").status_code == 403
    assert officer.post("/admin/payments/reconciliationrun/run/").status_code == 403
    assert ReconciliationRun.objects.count() == 1


# --- a randomized run: any interleaving ends with clean books --------------------------------------------------

# Each action with its weight: paying and the journey come up most, so that many orders get far.
ACTIONS = {
    "journey_step": 12,
    "pay_ok": 4,
    "pay_async": 1,
    "pay_timeout": 1,
    "pay_declined": 1,
    "confirm": 2,
    "reject": 3,
    "refund": 1,
    "cancel": 1,
    "expire": 1,
    "sweep": 1,
    "next_day": 1,
    "send_tranches": 2,
}


@pytest.mark.parametrize(
    ("seed", "orders", "actions"),
    [(1, 40, 800), (2, 40, 800), (3, 300, 6_000)],
    ids=["small-1", "small-2", "three-hundred"],
)
def test_any_interleaving_of_payments_journeys_refunds_payouts_and_sweeps_leaves_the_books_clean(
    place_order, hkg, hgh, client, committed, settings, seed, orders, actions
):
    if orders > 100 and connection.vendor == "postgresql":
        pytest.skip("the small runs cover PostgreSQL; the long one runs on SQLite, beside the PostgreSQL suite")
    rng = random.Random(seed)
    random.seed(seed)  # the simulated rail's failures and timeouts
    settings.SIMULATED_RAIL = {"failure_rate": 0.2, "timeout_rate": 0.2}
    seller = actor_for(hkg.seller_admin.user)
    placed = [place_order(stock=1000) for _ in range(orders)]
    # Hangzhou's buyers pay the Hong Kong seller in HKD: converted, in tranches, some days away.
    cap = (placed[0].total.amount / 3).quantize(Decimal(1))
    ecb_rates_on(timezone.localdate() - timedelta(days=1), {"CNY": Decimal("7.9"), "HKD": Decimal("8.6")})
    Corridor.objects.create(
        from_country="CN", to_country="HK", currency="HKD", per_transfer_cap=cap, daily_cap=cap * 20, flat_fee=1
    )
    for tenant in (hkg, hgh):  # half the declarations wait for an officer, who may hold or reject them
        RiskRule.objects.create(hub=tenant.hub, kind=RiskRuleKind.RANDOM, lane=Lane.YELLOW, threshold=Decimal("0.5"))
    for n, action in enumerate(rng.choices(list(ACTIONS), weights=list(ACTIONS.values()), k=actions)):
        i = rng.randrange(orders)
        try:
            with committed():  # what the step sends on commit (reactions, refunds, tranches) runs right after it
                act(action, Order.objects.get(pk=placed[i].pk), seller, client, n)
        except DomainError:
            pass  # a step the order's state refuses: the books must stay right all the same
    statuses = Counter(Order.objects.values_list("status", flat=True))
    for far in ("delivered", "refunded", "cancelled"):  # the run went far
        assert statuses[far], statuses
    tranches = Counter(Tranche.objects.values_list("status", flat=True))
    assert tranches[TrancheStatus.SETTLED], tranches
    assert reconcile() == []


def officer_decides(order, decision):
    """An officer of its hub decides the order's open declaration (a hold asks for the invoice)."""
    declaration = order.declarations.filter(status__in=OPEN_STATUSES).select_related("hub").first()
    if declaration is None:
        raise DomainError("No declaration to decide.", code="invalid_transition")
    officer = Membership.objects.filter(hub=declaration.hub, role=Role.HUB_OFFICER).first().user
    declaration_decide(
        actor=actor_for(officer), declaration=declaration, decision=decision, reason="random", documents="Invoice"
    )


# The order's next step where the journey waits for someone (an officer, the carrier); the platform's own steps
# (declaring, a green release) run on commit, as the journey's tasks.
NEXT_STEP = {
    OrderStatus.PAID: lambda order: declaration_file(order=order, direction=Direction.EXPORT),
    OrderStatus.EXPORT_DECLARED: lambda order: officer_decides(order, "release"),
    OrderStatus.EXPORT_HELD: lambda order: officer_decides(order, "release"),
    OrderStatus.EXPORT_RELEASED: lambda order: order_ship(order=order),
    OrderStatus.SHIPPED: lambda order: declaration_file(order=order, direction=Direction.IMPORT),
    OrderStatus.IMPORT_DECLARED: lambda order: officer_decides(order, "release"),
    OrderStatus.IMPORT_HELD: lambda order: officer_decides(order, "release"),
    OrderStatus.IMPORT_RELEASED: lambda order: order_deliver(order=order),
}


def act(action, order, seller, client, n):
    if action.startswith("pay_"):
        payment_start(actor=seller, order=order, method=f"sim_{action[4:]}")
    elif action == "confirm":
        payment = order.payments.filter(status=PaymentStatus.PENDING).exclude(provider_ref="").first()
        if payment:
            event = {"id": f"evt-{n}", "type": "charge.succeeded", "charge": payment.provider_ref}
            secret = django_settings.PAYMENT_WEBHOOK_SECRETS[0]
            post_signed(client, "/api/v1/payments/webhook/", "Provider-Signature", secret, event)
    elif action == "journey_step" and order.status in NEXT_STEP:
        NEXT_STEP[order.status](order)
    elif action == "reject":
        officer_decides(order, "hold" if n % 3 == 0 else "reject")
    elif action == "refund":
        order_refund_requested(actor=seller, order=order, reason="random")
    elif action == "cancel":
        order_cancel(actor=seller, order=order, reason="random")
    elif action == "expire":
        Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=1))
        cancel_unpaid_orders_task()
    elif action == "sweep":
        Payment.objects.filter(status=PaymentStatus.PENDING).update(created_at=timezone.now() - timedelta(hours=1))
        Order.objects.update(status_changed_at=F("status_changed_at") - timedelta(hours=1))  # reactions lost
        payments_sweep_task()
    elif action == "next_day":  # tomorrow's tranches are due
        Tranche.objects.filter(status=TrancheStatus.SCHEDULED).update(send_on=F("send_on") - timedelta(days=1))
    elif action == "send_tranches":  # beat's sweeper, once refused and stuck tranches have waited long enough
        unsettled = Tranche.objects.exclude(status=TrancheStatus.SETTLED).exclude(sending_since=None)
        unsettled.update(sending_since=F("sending_since") - timedelta(hours=2))
        tranches_due_task()


@pytest.mark.django_db(transaction=True)
def test_reconcile_reads_one_snapshot_of_the_books():
    # A worker posting between the read of the postings and that of the accounts' totals is no difference: on
    # PostgreSQL every check reads one repeatable-read snapshot (SQLite's immediate transaction holds writers off)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert reconcile() == []
    statements = [query["sql"] for query in queries.captured_queries]
    assert statements[0].startswith("BEGIN")
    if connection.vendor == "postgresql":
        assert statements[1] == "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
