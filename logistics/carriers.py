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
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from djmoney.money import Money


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


class Carrier:
    name = ""

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
        cost = (Decimal(35) + per_kg * chargeable_kg).quantize(Decimal("0.01"))
        return [Rate("economy", Money(cost, currency), 7), Rate("express", Money(cost * 2, currency), 3)]

    def book(self, *, key: str, request: dict) -> Booking:
        from logistics.models import SimulatedCarrierBooking

        behaviour = settings.SIMULATED_CARRIER
        if random.random() < behaviour.get("failure_rate", 0):
            raise CarrierRefused("The simulated carrier is unavailable.")
        made = SimulatedCarrierBooking.objects.filter(key=key).first()
        if made is None:
            response = {
                "waybill": _waybill(),
                "status": "booked",
                "shipments": {shipment["reference"]: _waybill() for shipment in request.get("shipments", [])},
            }
            try:
                with transaction.atomic():
                    made = SimulatedCarrierBooking.objects.create(
                        key=key, waybill=response["waybill"], request=request, response=response
                    )
            except IntegrityError:  # booked meanwhile by a concurrent call with the same key
                made = SimulatedCarrierBooking.objects.get(key=key)
        if random.random() < behaviour.get("timeout_rate", 0):
            raise CarrierTimeout(key)  # booked, but the answer is lost
        return Booking(made.waybill, made.response["shipments"], request, made.response)


def _waybill() -> str:
    return f"999-{get_random_string(8, '0123456789')}"


def carrier() -> Carrier:
    """The configured carrier (`CARRIER`, a dotted class path)."""
    return import_string(settings.CARRIER)()
