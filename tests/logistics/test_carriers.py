"""Carriers: one interface with a clear "not supported"; rates in Decimal money; a consignment booked once under
its key, what was sent and answered kept on it, whether the booking task runs twice, the answer is lost or the
carrier refuses and the sweep asks again."""

from decimal import Decimal

import pytest
from django.test import override_settings
from djmoney.money import Money

from hubs.models import AuditEvent
from logistics.carriers import Carrier, CarrierNotSupported, SimulatedCarrier
from logistics.models import Consignment, SimulatedCarrierBooking
from logistics.services import consignment_book, departure_close
from logistics.tasks import consignment_book_task, departures_close_due_task
from tests.logistics.conftest import receive


def test_rates_are_decimal_money_the_same_every_time_and_what_a_carrier_lacks_is_said():
    carrier = SimulatedCarrier()
    rates = carrier.rates(origin="HKG", destination="HGH", chargeable_kg=Decimal(15), currency="USD")
    assert rates == carrier.rates(origin="HKG", destination="HGH", chargeable_kg=Decimal(15), currency="USD")
    assert all(
        isinstance(rate.amount, Money) and rate.amount.amount == rate.amount.amount.quantize(Decimal("0.01"))
        for rate in rates
    )
    with pytest.raises(CarrierNotSupported, match="cancels no bookings"):
        carrier.cancel(waybill="999-1")
    with pytest.raises(CarrierNotSupported, match="gives no rates"):
        Carrier().rates(origin="HKG", destination="HGH", chargeable_kg=Decimal(1), currency="USD")


@pytest.fixture
def closed(released_order, departure, hkg, committed):
    """A departure closed with two parcels in one consignment; the booking it sends not yet run."""
    order = released_order()
    for _ in range(2):
        receive(hkg, order)
    flight = departure(units=1)
    departure_close(departure=flight)
    return Consignment.objects.get(departure=flight)


def test_a_consignment_is_booked_once_with_what_was_sent_and_answered(closed):
    consignment_book_task(closed.pk)
    consignment_book_task(closed.pk)  # a duplicate message
    departures_close_due_task()
    closed.refresh_from_db()
    assert closed.waybill.startswith("999-")
    assert closed.booking["request"]["reference"] == closed.public_id
    assert len(closed.booking["request"]["parcels"]) == 2
    assert closed.booking["response"]["waybill"] == closed.waybill
    assert SimulatedCarrierBooking.objects.filter(key=closed.public_id).count() == 1
    assert AuditEvent.objects.filter(verb="consignment.booked").count() == 1


@pytest.mark.parametrize("fault", ["timeout_rate", "failure_rate"])
def test_a_lost_answer_or_a_refusal_is_booked_by_the_sweep_once(closed, fault):
    with override_settings(SIMULATED_CARRIER={fault: 1}):
        consignment_book(consignment=closed)
    closed.refresh_from_db()
    assert closed.booked_at is None
    made = SimulatedCarrierBooking.objects.filter(key=closed.public_id).count()
    assert made == (1 if fault == "timeout_rate" else 0)  # a timeout booked, its answer lost
    departures_close_due_task()
    closed.refresh_from_db()
    assert closed.booked_at is not None
    assert SimulatedCarrierBooking.objects.get(key=closed.public_id).waybill == closed.waybill


def test_closing_sends_the_booking(released_order, departure, hkg, committed):
    order = released_order()
    receive(hkg, order)
    flight = departure(units=1)
    with committed():
        departures_close_due_task()
        departures_close_due_task()
    consignment = Consignment.objects.get(departure=flight)
    assert consignment.booked_at is not None
    assert SimulatedCarrierBooking.objects.filter(key=consignment.public_id).count() == 1
