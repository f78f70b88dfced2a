"""Consolidation's Celery tasks: thin and idempotent."""

import logging

from celery import shared_task
from django.utils import timezone

from hubs.kernel.errors import DomainError
from logistics.models import Consignment, Departure, DepartureStatus, Shipment, ShipmentStatus
from logistics.services import consignment_book, departure_close, shipment_track

logger = logging.getLogger(__name__)


@shared_task
def departures_close_due_task():
    """Beat's closer: every open departure whose cut-off has passed is closed (once, however often this runs),
    and consignments that a lost message or a carrier's failure left unbooked are booked (once: under their key)."""
    due = Departure.objects.filter(status=DepartureStatus.OPEN, cut_off_at__lte=timezone.now())
    for departure in due.order_by("cut_off_at", "pk"):
        try:
            departure_close(departure=departure)
        except DomainError:
            logger.exception("departure %s could not close", departure.public_id)
    unbooked = Consignment.objects.filter(booked_at=None, departure__status=DepartureStatus.CLOSED)
    for consignment in unbooked.order_by("pk"):
        consignment_book(consignment=consignment)


@shared_task
def consignment_book_task(consignment_pk):
    """Sent when a departure closes: its consignment booked with the carrier."""
    consignment_book(consignment=Consignment.objects.get(pk=consignment_pk))


@shared_task
def shipments_track_task():
    """Beat's tracker: the carrier asked for the events of every shipment on its way (those its webhook already
    brought are not applied again)."""
    for shipment in Shipment.objects.filter(status__in=[ShipmentStatus.BOOKED, ShipmentStatus.IN_TRANSIT]):
        shipment_track(shipment=shipment)
