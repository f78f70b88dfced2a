"""Customs' Celery tasks: thin and idempotent, each may run twice and does its work once."""

from celery import shared_task
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customs.exchange import UNDELIVERED, hub_messages_deliver_in_turn, undelivered_numbered
from customs.models import HubMessage
from customs.summaries import summaries_file
from hubs.kernel.background import resend

SWEEP_BATCH = 500


@shared_task
def hub_message_deliver_task(message_pk: int) -> None:
    """Sent on commit of the message's queuing, and by the sweeper: the message delivered, then the pair's next
    ones behind it; after a batch, the rest in a task of their own."""
    left = hub_messages_deliver_in_turn(message=HubMessage.objects.get(pk=message_pk))
    if left is not None:
        hub_message_deliver_task.delay(left.pk)


@shared_task
def hub_messages_sweep_task() -> int:
    """Beat's sweeper of the outbox: each pair's first message not delivered, once its next attempt is due (a
    failure's back-off over, a worker that died mid-send, a lost task); its delivery sends the pair's next."""
    behind = undelivered_numbered(OuterRef("origin_hub"), OuterRef("destination_hub"), OuterRef("sequence") - 1)
    due = HubMessage.objects.filter(status__in=UNDELIVERED, next_attempt_at__lte=timezone.now()).exclude(Exists(behind))
    return resend(hub_message_deliver_task, due.order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])


@shared_task
def summaries_file_task() -> int:
    """Beat's filer of summary declarations: the CBEC exports of each month over at their hub, once."""
    return len(summaries_file())
