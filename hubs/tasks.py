from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from hubs.kernel.background import resend
from hubs.kernel.idempotency import claims_purge_expired
from hubs.models import WebhookDelivery
from hubs.partner_webhooks import webhook_deliveries_due, webhook_delivery_send

# Where a worker leaves the time it last ran a task of beat's, for /healthz to read.
WORKER_HEARTBEAT_KEY = "worker-heartbeat"
# The most deliveries one sweep sends; the rest wait for the next sweep, a minute later.
SWEEP_BATCH = 500


@shared_task
def purge_expired_claims_task():
    """Forget the API's stored answers once they are past keeping (24 hours)."""
    return claims_purge_expired()


@shared_task
def worker_heartbeat_task():
    """Say that a worker is taking tasks off the broker (beat sends this every 30 seconds)."""
    cache.set(WORKER_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)


@shared_task
def webhook_delivery_send_task(delivery_pk):
    """Sent when an event is written out for an endpoint, and by the sweeper; it sends nothing twice."""
    webhook_delivery_send(delivery=WebhookDelivery(pk=delivery_pk))


@shared_task
def webhook_deliveries_sweep_task():
    """Beat's sweeper of partner webhooks: sends the deliveries whose next attempt is due (after a back-off, or
    whose message was lost) and those a dead worker left sending. Returns how many it sent to the workers."""
    due = webhook_deliveries_due().order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:SWEEP_BATCH]
    return resend(webhook_delivery_send_task, due)
