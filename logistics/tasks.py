"""Consolidation's Celery tasks: thin and idempotent."""

import logging

from celery import shared_task
from django.utils import timezone

from hubs.kernel.errors import DomainError
from logistics.models import Departure, DepartureStatus
from logistics.services import departure_close

logger = logging.getLogger(__name__)


@shared_task
def departures_close_due_task():
    """Beat's closer: every open departure whose cut-off has passed is closed (once, however often this runs)."""
    due = Departure.objects.filter(status=DepartureStatus.OPEN, cut_off_at__lte=timezone.now())
    for departure in due.order_by("cut_off_at", "pk"):
        try:
            departure_close(departure=departure)
        except DomainError:
            logger.exception("departure %s could not close", departure.public_id)
