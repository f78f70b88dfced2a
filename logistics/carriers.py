"""Carriers behind one interface: rates, booking, tracking and cancellation; what a carrier lacks raises
`CarrierNotSupported`, a clear "not supported" rather than a wrong answer. A booking carries an idempotency key:
a carrier books once per key, however often it is asked.

`SimulatedCarrier` is the embedded default's and the tests' carrier: deterministic rates by chargeable weight and
route, in Decimal money, and bookings kept in a table of its own; it fails and times out (after booking: the
answer is lost) as `SIMULATED_CARRIER` says.
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from djmoney.money import Money

from hubs.kernel.money import round_money


class CarrierNotSupported(Exception):
    """The carrier does not offer this."""


class CarrierTimeout(Exception):
    """No answer in time: whether it was booked is known by booking again with the same key."""


class CarrierRefused(Exception):
    """The carrier refused (a failure on its side): nothing was booked; it may be asked again."""


@dataclass(frozen=True)
class Rate:
    service: str
    amount: Money
    transit_days: int


@dataclass(frozen=True)
class Booking:
    waybill: str  # the consignment's master waybill
    shipment_waybills: dict  # each shipment's (house) waybill, by the shipment's reference in the request
    request: dict  # what was sent, as sent
    response: dict  # what the carrier answered, as answered


@dataclass(frozen=True)
class TrackingUpdate:
    event_id: str  # the carrier's id of the event: an event is applied once
    status: str
    occurred_at: datetime
    place: str
    description: str


class Carrier:
    name = ""

    def track(self, *, waybill: str) -> list[TrackingUpdate]:
        raise CarrierNotSupported(f"{self.name} gives no tracking.")

    def rates(self, *, origin: str, destination: str, chargeable_kg: Decimal, currency: str) -> list[Rate]:
        raise CarrierNotSupported(f"{self.name} gives no rates.")

    def book(self, *, key: str, request: dict) -> Booking:
        raise CarrierNotSupported(f"{self.name} takes no bookings.")

    def cancel(self, *, waybill: str) -> None:
        raise CarrierNotSupported(f"{self.name} cancels no bookings.")


class SimulatedCarrier(Carrier):
    name = "simulated"

    def rates(self, *, origin: str, destination: str, chargeable_kg: Decimal, currency: str) -> list[Rate]:
        # A route's price a kilogram is drawn from its name, so that it is the same in every process and run.
        per_kg = Decimal(20 + int(hashlib.sha256(f"{origin}{destination}".encode()).hexdigest()[:4], 16) % 30) / 10
        cost = round_money(Decimal(35) + per_kg * chargeable_kg, currency)
        return [Rate("economy", Money(cost, currency), 7), Rate("express", Money(cost * 2, currency), 3)]

    def book(self, *, key: str, request: dict) -> Booking:
        from logistics.models import SimulatedCarrierBooking

        behaviour = settings.SIMULATED_CARRIER
        if random.random() < behaviour.get("failure_rate", 0):
            raise CarrierRefused("The simulated carrier is unavailable.")
        houses = {shipment["reference"]: _waybill() for shipment in request.get("shipments", [])}
        response = {"waybill": _waybill(), "status": "booked", "shipments": houses}
        with transaction.atomic():  # a concurrent booking of the key makes this one find it
            made, new = SimulatedCarrierBooking.objects.get_or_create(
                key=key, defaults={"waybill": response["waybill"], "request": request, "response": response}
            )
            if new:  # each shipment's own booking, to be tracked by
                SimulatedCarrierBooking.objects.bulk_create(
                    SimulatedCarrierBooking(key=f"{key}/{ref}", waybill=house, request=request, response={})
                    for ref, house in houses.items()
                )
        if random.random() < behaviour.get("timeout_rate", 0):
            raise CarrierTimeout(key)  # booked, but the answer is lost
        return Booking(made.waybill, made.response["shipments"], request, made.response)

    def track(self, *, waybill: str) -> list[TrackingUpdate]:
        """A shipment leaves its origin an hour after its booking and is delivered two days after: the events
        whose time has come."""
        from logistics.models import SimulatedCarrierBooking

        if random.random() < settings.SIMULATED_CARRIER.get("timeout_rate", 0):
            raise CarrierTimeout(waybill)
        booked = SimulatedCarrierBooking.objects.filter(waybill=waybill).first()
        if booked is None:
            return []
        origin, destination = booked.request["origin"], booked.request["destination"]
        events = [
            TrackingUpdate(f"{waybill}/1", "in_transit", booked.created_at + timedelta(hours=1), origin, "Departed"),
            TrackingUpdate(
                f"{waybill}/2", "delivered", booked.created_at + timedelta(days=2), destination, "Delivered"
            ),
        ]
        return [event for event in events if event.occurred_at <= timezone.now()]


def _waybill() -> str:
    return f"999-{get_random_string(8, '0123456789')}"


def carrier() -> Carrier:
    """The configured carrier (`CARRIER`, a dotted class path)."""
    return import_string(settings.CARRIER)()
