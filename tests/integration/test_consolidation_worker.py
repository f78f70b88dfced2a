"""Consolidation through a real worker process: a departure closes at its cut-off and its consignment is booked
with the carrier once, though the closing task is sent twice."""

import pytest

from hubs.models import AuditEvent
from logistics.models import Consignment, DepartureStatus, SimulatedCarrierBooking
from logistics.tasks import departures_close_due_task
from tests.integration.conftest import wait_for
from tests.logistics.conftest import (  # noqa: F401 (fixtures)
    departure,
    hgh,
    hkg,
    mys,
    place_order,
    receive,
    reference_units,
    released_order,
    rules,
    yiw,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_departure_closes_at_its_cut_off_and_books_once_though_closed_twice(
    released_order,  # noqa: F811
    departure,  # noqa: F811
    hkg,  # noqa: F811
    reference_units,  # noqa: F811
    celery_worker_process,
):
    order = released_order()
    for _ in range(3):
        receive(hkg, order)
    flight = departure(units=1)  # its cut-off: now

    departures_close_due_task.delay()
    departures_close_due_task.delay()  # beat's next tick, or a duplicate message

    def booked():
        return Consignment.objects.filter(departure=flight).exclude(booked_at=None).exists()

    assert wait_for(booked), celery_worker_process.read_text()[-3000:]
    flight.refresh_from_db()
    assert flight.status == DepartureStatus.CLOSED
    consignment = Consignment.objects.get(departure=flight)
    assert consignment.parcels.count() == 3
    assert SimulatedCarrierBooking.objects.get(key=consignment.public_id).waybill == consignment.waybill
    assert AuditEvent.objects.filter(verb__in=["departure.closed", "consignment.booked"]).count() == 2
