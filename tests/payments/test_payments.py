"""Payments in: the buyer's money captured into escrow through the provider (confirmed at once, declined, timed
out, confirmed late or twice, by a signed webhook), the duties to the hub at import release, the seller's share on
delivery, refunds on cancellation or rejection, never twice; unpaid orders cancelled past their window."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from djmoney.money import Money

from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for
from payments.models import Account, AccountKind, LedgerTransaction, Payment, PaymentStatus, TransactionStatus
from payments.services import order_refund_requested, payment_start
from payments.tasks import cancel_unpaid_orders_task, payments_sweep_task
from tests.tenants import session_client
from tests.webhooks import post_signed
from trade.models import Listing, OrderStatus
from trade.services import order_cancel, order_declare, order_deliver, order_reject, order_release, order_ship


def seller(hkg):
    return actor_for(hkg.seller_admin.user)


def balance(kind, currency="CNY", **owner):
    account = Account.objects.filter(kind=kind, currency=currency, **owner).first()
    return (account.balance, account.pending) if account else (Money(0, currency), Money(0, currency))


def webhook(client, event, *, secret=None, at=None):
    secret = secret or settings.PAYMENT_WEBHOOK_SECRETS[0]
    return post_signed(client, "/api/v1/payments/webhook/", "Provider-Signature", secret, event, at)


def test_a_confirmed_payment_is_held_in_escrow_and_the_order_is_paid(place_order, hkg):
    order = place_order()
    payment = payment_start(actor=seller(hkg), order=order, method="sim_ok")
    order.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    assert order.status == OrderStatus.PAID
    share = order.total - order.duties_and_taxes
    assert balance(AccountKind.ESCROW) == (order.total, -share)  # the seller's share is reserved for it
    assert balance(AccountKind.COMPANY, company=hkg.company) == (Money(0, "CNY"), share)  # reserved, not paid


def test_a_declined_payment_leaves_the_order_placed_and_another_may_follow(place_order, hkg):
    order = place_order()
    declined = payment_start(actor=seller(hkg), order=order, method="sim_declined")
    assert declined.status == PaymentStatus.DECLINED
    assert declined.decline_reason
    assert not LedgerTransaction.objects.exists()
    assert payment_start(actor=seller(hkg), order=order, method="sim_ok").status == PaymentStatus.CAPTURED


def test_a_timed_out_charge_stays_pending_until_the_sweeper_finds_it_taken(place_order, hkg):
    order = place_order()
    pending = payment_start(actor=seller(hkg), order=order, method="sim_timeout")
    assert pending.status == PaymentStatus.PENDING
    with pytest.raises(DomainError) as refused:
        payment_start(actor=seller(hkg), order=order, method="sim_ok")
    assert refused.value.code == "payment_in_progress"
    payments_sweep_task()  # too early: the provider may still confirm by webhook
    assert Payment.objects.get(pk=pending.pk).status == PaymentStatus.PENDING
    Payment.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    payments_sweep_task()
    payments_sweep_task()  # twice: captured once
    assert Payment.objects.get(pk=pending.pk).status == PaymentStatus.CAPTURED
    assert balance(AccountKind.ESCROW)[0] == order.total


def test_the_providers_webhook_confirms_once_however_often_it_says_so(place_order, hkg, client):
    order = place_order()
    payment = payment_start(actor=seller(hkg), order=order, method="sim_async")
    assert payment.status == PaymentStatus.PENDING
    event = {"id": "evt_1", "type": "charge.succeeded", "charge": payment.provider_ref}

    assert webhook(client, event).json() == {"applied": True, "payment": payment.public_id, "status": "captured"}
    assert webhook(client, event).json()["applied"] is False  # the same event again
    assert webhook(client, {**event, "id": "evt_2"}).json()["status"] == "captured"  # confirmed twice
    late_decline = {**event, "id": "evt_3", "type": "charge.declined"}
    assert webhook(client, late_decline).json()["status"] == "captured"  # a late contrary word changes nothing
    assert LedgerTransaction.objects.filter(key=f"capture:{payment.public_id}").count() == 1
    assert balance(AccountKind.ESCROW)[0] == order.total


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ({"secret": "not-the-providers"}, "bad_signature"),
        ({"at": int(time.time()) - 3600}, "stale_signature"),
    ],
)
def test_a_forged_or_replayed_webhook_changes_nothing(place_order, hkg, client, how, code):
    payment = payment_start(actor=seller(hkg), order=place_order(), method="sim_async")
    response = webhook(client, {"id": "evt_1", "type": "charge.succeeded", "charge": payment.provider_ref}, **how)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    assert not LedgerTransaction.objects.exists()


def test_a_webhook_for_an_unknown_charge_is_refused_and_may_come_again(place_order, hkg, client):
    payment = payment_start(actor=seller(hkg), order=place_order(), method="sim_async")
    unknown = webhook(client, {"id": "evt_1", "type": "charge.succeeded", "charge": "sim_ch.nobody.sim_ok"})
    assert unknown.json()["errors"][0]["code"] == "unknown_charge"
    known = webhook(client, {"id": "evt_1", "type": "charge.succeeded", "charge": payment.provider_ref})
    assert known.json()["applied"] is True  # the refused event's id was not spent


def test_a_confirmation_after_the_order_was_cancelled_is_refunded(place_order, hkg, client, committed):
    order = place_order()
    payment = payment_start(actor=seller(hkg), order=order, method="sim_async")
    order_cancel(actor=seller(hkg), order=order, reason="the buyer changed its mind")
    with committed():
        webhook(client, {"id": "evt_1", "type": "charge.succeeded", "charge": payment.provider_ref})
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert balance(AccountKind.ESCROW)[0] == Money(0, "CNY")
    assert balance(AccountKind.PROVIDER)[0] == Money(0, "CNY")  # in and out again
    assert LedgerTransaction.objects.get(pk=payment.release_id).status == TransactionStatus.VOIDED


def test_duties_go_to_the_hub_at_import_release_and_the_seller_is_paid_on_delivery(place_order, hkg, hgh, committed):
    order = place_order()
    payment_start(actor=seller(hkg), order=order, method="sim_ok")
    with committed():
        for step in (order_declare, order_release, order_ship, order_declare, order_release):
            step(order=order)
    duties = order.duties_and_taxes
    assert duties.amount > 0
    assert balance(AccountKind.HUB_TAX, hub=hgh.hub)[0] == duties
    assert balance(AccountKind.ESCROW)[0] == order.total - duties
    with committed():
        order_deliver(order=order)
    assert balance(AccountKind.COMPANY, company=hkg.company) == (order.total - duties, Money(0, "CNY"))
    assert balance(AccountKind.ESCROW)[0] == Money(0, "CNY")
    payments_sweep_task()  # nothing left to do: nothing moves twice
    assert balance(AccountKind.HUB_TAX, hub=hgh.hub)[0] == duties
    assert LedgerTransaction.objects.filter(order_ref=order.public_id).count() == 3  # capture, release, duties


def test_a_rejected_order_is_refunded_from_escrow_once(place_order, hkg, committed):
    order = place_order()
    payment = payment_start(actor=seller(hkg), order=order, method="sim_ok")
    with committed():
        order_declare(order=order)
        order_reject(order=order, reason="restricted goods")
    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.REFUNDED
    payments_sweep_task()
    assert LedgerTransaction.objects.filter(key=f"refund:{payment.public_id}").count() == 1
    assert balance(AccountKind.ESCROW)[0] == Money(0, "CNY")
    assert balance(AccountKind.COMPANY, company=hkg.company) == (Money(0, "CNY"), Money(0, "CNY"))


def test_a_paid_order_cancelled_before_export_is_refunded_never_twice(place_order, hkg):
    order = place_order()
    payment = payment_start(actor=seller(hkg), order=order, method="sim_ok")
    order_refund_requested(actor=seller(hkg), order=order, reason="out of stock after all")
    with pytest.raises(DomainError) as again:
        order_refund_requested(actor=seller(hkg), order=order)
    assert again.value.code == "not_refundable"
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.REFUNDED
    assert balance(AccountKind.ESCROW)[0] == Money(0, "CNY")


def test_only_a_placed_order_is_paid(place_order, hkg):
    order = place_order()
    payment_start(actor=seller(hkg), order=order, method="sim_ok")
    with pytest.raises(DomainError) as refused:
        payment_start(actor=seller(hkg), order=order, method="sim_ok")
    assert refused.value.code == "not_payable"


def test_an_unpaid_order_past_its_window_is_cancelled_and_its_stock_returned(place_order, hkg):
    old, awaiting, fresh = place_order(stock=5), place_order(stock=5), place_order(stock=5)
    payment_start(actor=seller(hkg), order=awaiting, method="sim_async")
    long_ago = timezone.now() - timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES + 1)
    type(old).objects.filter(pk__in=[old.pk, awaiting.pk]).update(placed_at=long_ago)
    cancel_unpaid_orders_task()
    for order, status in ((old, OrderStatus.CANCELLED), (awaiting, OrderStatus.PLACED), (fresh, OrderStatus.PLACED)):
        order.refresh_from_db()
        assert order.status == status
    assert Listing.objects.get(pk=old.lines.get().listing_id).stock == 5


def test_the_api_pays_an_order_and_shows_the_payment(place_order, hkg, mys):
    order = place_order()
    client = session_client(hkg.seller_admin)
    response = client.post("/api/v1/payments/", {"order": order.public_id, "method": "sim_ok"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "captured"
    assert client.get(f"/api/v1/payments/{response.json()['id']}/").json()["order"] == order.public_id
    outsider = session_client(mys.seller_admin)
    refused = outsider.post("/api/v1/payments/", {"order": order.public_id, "method": "sim_ok"}, format="json")
    assert refused.json()["errors"][0]["code"] == "not_found"
