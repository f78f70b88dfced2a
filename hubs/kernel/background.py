"""How work reaches the Celery workers: only once the transaction that asked for it has committed."""

import logging

from django.db import transaction
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
