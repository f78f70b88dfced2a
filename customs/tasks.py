"""Customs' Celery tasks: thin and idempotent, each may run twice and does its work once."""

from celery import shared_task
from django.utils import timezone

from customs.exchange import UNDELIVERED, hub_message_deliver
from customs.models import HubMessage

SWEEP_BATCH = 500


@shared_task
def hub_message_deliver_task(message_pk: int) -> None:
    """Sent on commit of the message's queuing (and of its predecessor's delivery): the message delivered."""
    hub_message_deliver(message=HubMessage.objects.get(pk=message_pk))


@shared_task
def hub_messages_sweep_task() -> int:
    """Beat's sweeper of the outbox: the messages not delivered whose next attempt is due (a failure's back-off
    over, a worker that died mid-send, a lost task), each pair's earliest first."""
    due = HubMessage.objects.filter(status__in=UNDELIVERED, next_attempt_at__lte=timezone.now())
    pks = list(due.order_by("origin_hub", "destination_hub", "sequence").values_list("pk", flat=True)[:SWEEP_BATCH])
    for pk in pks:
        hub_message_deliver_task.delay(pk)
    return len(pks)
