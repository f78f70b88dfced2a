"""Payouts: a seller's proceeds converted at the reference rate less the corridor's spread, split exactly into
tranches under the per-transfer cap, scheduled within the daily cap, each sent over the bank rail under its own
key: a task run twice, a rail that times out or refuses, a duplicate acknowledgement never pay twice. The seed's
Nigeria case: a USD 200,000 order from a Lagos buyer to a Yiwu seller settles as 20 tranches."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from djmoney.money import Money

from hubs.models import AuditEvent, FxRate, FxSource
from hubs.selectors import hub_today
from payments.models import (
    Account,
    AccountKind,
    Corridor,
    LedgerTransaction,
    PayoutStatus,
    SimulatedRailTransfer,
    Tranche,
    TrancheStatus,
)
from payments.reconciliation import reconcile
from payments.services import tranche_send
from payments.tasks import payments_sweep_task, tranches_due_task
from tests.conftest import past_sweep_grace
from tests.payments.conftest import USD, deliver, paid_lagos_order
from tests.tenants import session_client


def usd(amount):
    return Money(Decimal(amount), USD)


@pytest.fixture
def delivered(lagos, yiw, committed):
    """A Yiwu seller's CNY 1,600,000 order from a Lagos business (NGN 300,000,000 of goods, USD 200,000), paid,
    cleared both ways and delivered."""
    order = paid_lagos_order(yiw, lagos)
    assert order.goods == Money("300000000.00", "NGN")
    with committed():
        deliver(order)
    return order


def test_the_order_page_shows_its_payment_and_payout_with_the_tranches_settled(delivered, yiw):
    page = session_client(yiw.seller_admin).get(f"/orders/{delivered.public_id}/").content.decode()
    payout = delivered.payout
    assert f'<a href="/money/payouts/{payout.public_id}/">{payout.public_id}</a>: {payout.net}' in page
    assert '<progress value="1" max="20">' in page  # today's tranche went on delivery
    assert "captured" in page


def test_the_nigeria_case_settles_as_20_tranches_exactly(delivered, yiw, lagos, committed):
    payout = delivered.payout
    tranches = list(payout.tranches.order_by("number"))
    start = hub_today(lagos.hub)
    assert payout.gross == usd("200000.00")  # NGN 300,000,000 at 1/1500, no spread on this corridor
    assert len(tranches) == 20
    assert {t.amount + t.fee for t in tranches} == {usd("10000.00")}
    assert payout.fees == usd("500.00")  # USD 25 a transfer
    assert payout.net == usd("199500.00") == sum((t.amount for t in tranches), usd(0))
    assert [t.send_on for t in tranches] == [start + timedelta(days=n) for n in range(20)]  # USD 10,000 a day
    assert payout.expected_completion == start + timedelta(days=19 + 5)
    assert payout.conversion["rate"].startswith("0.000666")
    assert [t.status for t in tranches].count(TrancheStatus.SETTLED) == 1  # today's went on delivery

    Tranche.objects.update(send_on=start)  # the days pass
    with committed():
        tranches_due_task()
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SETTLED
    assert SimulatedRailTransfer.objects.count() == 20
    seller_usd = Account.objects.get(kind=AccountKind.COMPANY, company=yiw.company, currency=USD)
    assert seller_usd.balance == usd(0)
    assert Account.objects.get(kind=AccountKind.RAIL, currency=USD).balance == usd("199500.00")
    assert Account.objects.get(kind=AccountKind.FEES, currency=USD).balance == usd("500.00")
    assert reconcile() == []


def test_the_portal_and_the_api_show_the_payout_and_when_it_completes(delivered, yiw):
    payout = delivered.payout
    answer = session_client(yiw.seller_admin).get(f"/api/v1/payouts/{payout.public_id}/").json()
    assert answer["expected_completion"] == payout.expected_completion.isoformat()
    assert len(answer["tranches"]) == 20
    assert answer["net"] == {"amount": "199500.00", "currency": USD}


def test_a_tranche_sent_twice_pays_once(delivered):
    tranche = delivered.payout.tranches.get(number=2)
    Tranche.objects.filter(pk=tranche.pk).update(send_on=tranche.send_on - timedelta(days=1))
    tranche_send(tranche=tranche)
    tranche_send(tranche=tranche)
    assert SimulatedRailTransfer.objects.filter(key=tranche.key).count() == 1
    assert LedgerTransaction.objects.filter(key=tranche.key).count() == 1
    assert reconcile() == []


def test_a_tranche_is_not_sent_before_its_day(delivered):
    later = delivered.payout.tranches.get(number=3)
    assert tranche_send(tranche=later).status == TrancheStatus.SCHEDULED
    assert not SimulatedRailTransfer.objects.filter(key=later.key).exists()


def test_a_rail_that_times_out_is_asked_again_with_the_same_key_and_pays_once(delivered, committed):
    tranche = delivered.payout.tranches.get(number=2)
    Tranche.objects.filter(pk=tranche.pk).update(send_on=tranche.send_on - timedelta(days=1))
    with override_settings(SIMULATED_RAIL={"timeout_rate": 1}):
        assert tranche_send(tranche=tranche).status == TrancheStatus.SENDING  # made, but the answer was lost
    assert SimulatedRailTransfer.objects.filter(key=tranche.key).count() == 1
    Tranche.objects.filter(pk=tranche.pk).update(sending_since=timezone.now() - timedelta(hours=1))  # stuck
    with committed():
        tranches_due_task()  # the sweeper asks again: a duplicate acknowledgement settles it
    tranche.refresh_from_db()
    assert tranche.status == TrancheStatus.SETTLED
    assert SimulatedRailTransfer.objects.filter(key=tranche.key).count() == 1
    assert LedgerTransaction.objects.filter(key=tranche.key).count() == 1


def test_a_rail_that_refuses_sends_again_after_a_back_off(delivered, committed):
    tranche = delivered.payout.tranches.get(number=2)
    Tranche.objects.filter(pk=tranche.pk).update(send_on=tranche.send_on - timedelta(days=1))
    with override_settings(SIMULATED_RAIL={"failure_rate": 1}):
        assert tranche_send(tranche=tranche).status == TrancheStatus.SCHEDULED
    assert not SimulatedRailTransfer.objects.filter(key=tranche.key).exists()
    with committed():
        tranches_due_task()  # within its back-off: not yet
    assert Tranche.objects.get(pk=tranche.pk).status == TrancheStatus.SCHEDULED
    Tranche.objects.filter(pk=tranche.pk).update(sending_since=timezone.now() - timedelta(hours=1))  # backed off
    with committed():
        tranches_due_task()
    assert Tranche.objects.get(pk=tranche.pk).status == TrancheStatus.SETTLED
    assert AuditEvent.objects.filter(verb="tranche.scheduled", target_id=str(tranche.pk)).count() == 1


def test_a_rail_transfer_without_a_tranche_is_found(delivered):
    SimulatedRailTransfer.objects.create(key="tranche:PO-NONE:1", ref="sim_tr_x", amount=usd(5), beneficiary="?")
    (difference,) = reconcile()
    assert difference.check == "rail_transfers"


def test_a_spread_goes_to_the_platforms_fx_account_and_the_conversion_is_kept(lagos, yiw, committed):
    Corridor.objects.update(fx_spread=Decimal("0.005"))
    order = paid_lagos_order(yiw, lagos, price="16000.00")
    with committed():
        deliver(order)
    payout = order.payout
    assert payout.conversion["spread"] == "0.00500"
    assert payout.gross == usd("1990.00")  # USD 2,000 less 0.5%
    assert Account.objects.get(kind=AccountKind.FX, currency=USD).balance == usd("10.00")
    assert FxRate.objects.filter(pk__in=payout.conversion["snapshots"], source=FxSource.MANUAL).exists()
    assert reconcile() == []


def test_a_corridor_edited_in_the_console_is_an_audit_event(lagos, admin_client):
    corridor = Corridor.objects.get()
    form = {
        "from_country": "NG",
        "to_country": "CN",
        "currency": USD,
        "per_transfer_cap": "20000",
        "daily_cap": "",
        "settlement_days": "3",
        "flat_fee": "25",
        "percent_fee": "0",
        "fx_spread": "0.004",
        "active": "on",
    }
    response = admin_client.post(f"/admin/payments/corridor/{corridor.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    corridor.refresh_from_db()
    assert corridor.per_transfer_cap == Decimal("20000")
    event = AuditEvent.objects.get(verb="corridor.changed")
    assert set(event.data["changed"]) == {"per_transfer_cap", "daily_cap", "settlement_days", "fx_spread"}


def test_the_sweeper_finishes_what_lost_messages_left_undone(lagos, yiw):
    order = paid_lagos_order(yiw, lagos)
    deliver(order)  # the reactions' messages are lost: nothing moved
    assert not LedgerTransaction.objects.filter(key__startswith="duties:").exists()
    payments_sweep_task()  # too early: the reactions may still be in the queue
    assert not LedgerTransaction.objects.filter(key__startswith="duties:").exists()

    past_sweep_grace(order)
    payments_sweep_task()
    payments_sweep_task()  # twice: nothing moves twice
    order.refresh_from_db()
    assert order.payout.tranches.count() == 20
    assert LedgerTransaction.objects.filter(order_ref=order.public_id).count() == 4  # capture, release, duties, fx
    assert reconcile() == []


def test_the_officer_reads_the_hub_tax_account_statement_in_the_console(delivered, lagos):
    client = session_client(lagos.officer)
    accounts = client.get("/admin/payments/account/").content.decode()
    tax = Account.objects.get(kind=AccountKind.HUB_TAX, hub=lagos.hub)
    assert f"/admin/payments/posting/?account={tax.pk}" in accounts
    statement = client.get(f"/admin/payments/posting/?account={tax.pk}")
    assert statement.status_code == 200
    assert list(statement.context["cl"].result_list.values_list("transaction__key", flat=True)) == [
        f"duties:{delivered.public_id}"
    ]


def test_proceeds_below_the_corridors_fee_stay_on_the_sellers_account(lagos, yiw, committed):
    order = paid_lagos_order(yiw, lagos, price="100.00")  # USD 12.50 of proceeds, a USD 25 fee a transfer
    with committed():
        deliver(order)  # the delivery's reaction does not fail: it says why there is no payout
    order.refresh_from_db()
    assert not hasattr(order, "payout")
    event = AuditEvent.objects.get(verb="payout.not_scheduled", order_ref=order.public_id)
    assert event.data["fee"] == "$25.00"
    assert Account.objects.get(kind=AccountKind.COMPANY, company=yiw.company, currency="NGN").balance.amount > 0
    assert reconcile() == []
