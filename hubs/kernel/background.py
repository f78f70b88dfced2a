"""How work reaches the Celery workers: only once the transaction that asked for it has committed."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Send `task` once the current transaction commits, so a worker never sees uncommitted rows.

    A send that fails (broker down) is logged, not raised: what committed stays committed, and the
    work is still pending in the database, from where it is sent again (by the next use, for a
    usage stamp; by a sweeper of the pending state, for the order's journey).
    """

    def send():
        try:
            task.delay(*args)
        except OperationalError:
            logger.exception("could not send %s%r; it stays pending", task.name, args)

    transaction.on_commit(send)


def swept_before(now: datetime | None = None) -> datetime:
    """A state older than this has had its reaction's chance: what it still asks for, a sweeper sends again (a send
    claimed before it, its worker taken as dead)."""
    return (now or timezone.now()) - timedelta(seconds=settings.SWEEP_AFTER_SECONDS)


def resend(task, pks) -> int:
    """A sweeper's sends of `task` for each pk. Each expires when the next sweep would send it again: one the
    workers could not reach by then (a backlog) is dropped rather than queued twice, so sweeps never grow it."""
    pks = list(pks)
    for pk in pks:
        task.apply_async((pk,), expires=settings.SWEEP_AFTER_SECONDS)
    return len(pks)
