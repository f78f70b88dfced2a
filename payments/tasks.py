"""The payments' Celery tasks: thin and idempotent, each may run twice and does its work once."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from hubs.kernel.background import resend, swept_before
from hubs.kernel.errors import DomainError
from payments.models import Corridor, Payment, PaymentStatus, Tranche, TrancheStatus, TransactionStatus
from payments.providers import ProviderTimeout, payment_provider
from payments.services import (
    duties_to_hub,
    escrow_release,
    payment_refund,
    payment_settle,
    payout_schedule,
    reconciliation_run,
    tranche_send,
)
from trade.models import Order, OrderStatus
from trade.services import order_expire

logger = logging.getLogger(__name__)

# A pending charge is looked up at the provider once it has had this long to confirm by webhook.
PENDING_LOOKUP_AFTER = timedelta(minutes=1)


@shared_task
def duties_to_hub_task(order_pk):
    """Sent when an order is released at import."""
    duties_to_hub(order=Order.objects.select_related("destination_hub").get(pk=order_pk))


@shared_task
def escrow_release_task(order_pk):
    """Sent when an order is delivered: the seller's share is posted, and its payout scheduled."""
    order = Order.objects.select_related("destination_hub", "company").get(pk=order_pk)
    escrow_release(order=order)
    payout_schedule(order=order)


@shared_task
def tranche_send_task(tranche_pk):
    tranche_send(tranche=Tranche.objects.get(pk=tranche_pk))


def _retry_after(attempts: int) -> timedelta:
    """How long a refused tranche waits before it is sent again: doubling from a minute, an hour at most."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@shared_task
def tranches_due_task():
    """Beat's sweeper of payouts: sends the tranches whose day has come (a refused one after its back-off), and
    sends again, with the same key, those left sending."""
    now = timezone.now()
    due = Tranche.objects.filter(status=TrancheStatus.SCHEDULED, send_on__lte=timezone.localdate() + timedelta(1))
    resend(
        tranche_send_task,
        [
            tranche.pk
            for tranche in due.order_by("send_on", "pk")
            if tranche.sending_since is None or now - tranche.sending_since >= _retry_after(tranche.attempts)
        ],
    )
    # left sending (its worker died, the rail did not answer): sent again, with the same key
    stuck = Tranche.objects.filter(status=TrancheStatus.SENDING, sending_since__lt=swept_before(now))
    resend(tranche_send_task, stuck.values_list("pk", flat=True))


@shared_task
def order_rejected_refund_task(order_pk):
    """Sent when customs rejects an order: its buyer is refunded from escrow."""
    payment = Payment.objects.filter(order_id=order_pk, status=PaymentStatus.CAPTURED).first()
    if payment is not None:
        payment_refund(actor=None, payment=payment, reason="Rejected by customs")


@shared_task
def payment_refund_task(payment_pk):
    payment_refund(actor=None, payment=Payment.objects.get(pk=payment_pk), reason="The order was cancelled")


@shared_task
def payments_sweep_task():
    """What a lost message or a crash left undone: charges still pending are looked up at the provider; captures
    of orders cancelled or rejected meanwhile are refunded; duties, sellers' shares and payouts that a reaction
    did not move are moved, once the order's state is older than a reaction takes. Each query finds only what is
    stuck, so a sweep costs nothing when nothing is; each step is idempotent, so sweeping what is done changes
    nothing; one step that fails is logged, not the end."""
    provider = payment_provider()
    stale = timezone.now() - PENDING_LOOKUP_AFTER
    for payment in Payment.objects.filter(status=PaymentStatus.PENDING, created_at__lt=stale):
        _sweep(_settle_pending, provider, payment)
    captured = Payment.objects.filter(
        status=PaymentStatus.CAPTURED, order__status_changed_at__lt=swept_before()
    ).select_related("order__destination_hub")
    for payment in captured.filter(order__status__in=[OrderStatus.CANCELLED, OrderStatus.REJECTED]):
        _sweep(payment_refund, actor=None, payment=payment, reason="Swept: the order was cancelled or rejected")
    released = [OrderStatus.IMPORT_RELEASED, OrderStatus.DELIVERED, OrderStatus.COMPLETED]
    for payment in captured.filter(duties__isnull=True, order__status__in=released, order__duties_and_taxes__gt=0):
        _sweep(duties_to_hub, order=payment.order)
    delivered = [OrderStatus.DELIVERED, OrderStatus.COMPLETED]
    for payment in captured.filter(release__status=TransactionStatus.PENDING, order__status__in=delivered):
        _sweep(escrow_release, order=payment.order)
    has_corridor = Corridor.objects.filter(
        from_country=OuterRef("order__destination_hub__country"), to_country=OuterRef("order__company__country")
    )
    unpaid_out = captured.filter(release__status=TransactionStatus.POSTED, order__payout__isnull=True)
    for payment in unpaid_out.filter(Exists(has_corridor.filter(active=True))).select_related("order__company"):
        _sweep(payout_schedule, order=payment.order)


def _settle_pending(provider, payment):
    try:
        charge = provider.retrieve(payment.provider_ref) if payment.provider_ref else None
        if charge is None:  # the charge call itself timed out: ask again with the same key
            charge = provider.charge(key=payment.public_id, amount=payment.amount, method=payment.method)
            charge = provider.retrieve(charge.ref) if charge.status == "pending" else charge
    except ProviderTimeout:
        return  # the next sweep asks again
    payment_settle(payment=payment, charge=charge)


def _sweep(step, *args, **kwargs):
    try:
        step(*args, **kwargs)
    except DomainError:
        logger.exception("the payments sweep could not %s %s", step.__name__, args or kwargs)


@shared_task
def cancel_unpaid_orders_task():
    """Cancel the orders placed longer ago than the payment window and still unpaid (none of their payments
    awaiting the provider); their stock goes back on sale."""
    deadline = timezone.now() - timedelta(minutes=settings.PAYMENT_WINDOW_MINUTES)
    for order in Order.objects.filter(status=OrderStatus.PLACED, placed_at__lt=deadline).exclude(
        payments__status=PaymentStatus.PENDING
    ):
        order_expire(order=order)


@shared_task
def reconcile_task():
    """Beat's nightly reconciliation: its differences are shown in the console."""
    return len(reconciliation_run().differences)
