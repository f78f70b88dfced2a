from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from hubs.kernel.idempotency import claims_purge_expired

# Where a worker leaves the time it last ran a task of beat's, for /healthz to read.
WORKER_HEARTBEAT_KEY = "worker-heartbeat"


@shared_task
def purge_expired_claims_task():
    """Forget the API's stored answers once they are past keeping (24 hours)."""
    return claims_purge_expired()


@shared_task
def worker_heartbeat_task():
    """Say that a worker is taking tasks off the broker (beat sends this every 30 seconds)."""
    cache.set(WORKER_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
