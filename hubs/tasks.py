from datetime import datetime

from celery import shared_task

from hubs.kernel.idempotency import claims_purge_expired
from hubs.services import api_key_mark_used


@shared_task
def mark_api_key_used_task(api_key_id, used_at):
    api_key_mark_used(api_key_id=api_key_id, used_at=datetime.fromisoformat(used_at))


@shared_task
def purge_expired_claims_task():
    """Forget the API's stored answers once they are past keeping (24 hours)."""
    return claims_purge_expired()
