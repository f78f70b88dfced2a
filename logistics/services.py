"""Logistics' writes: parcels received at the origin hub (each order's shipment made with its first), departures
scheduled by its supervisors, and each departure closed at its cut-off: the parcels waiting on its route packed
into its units, each unit's cost shared by its parcels' chargeable weights (exactly, with the kernel's
`allocate`), each unit booked with the carrier (its shipments given their waybills); the carrier's tracking
events; shipments' documents; and rates."""

import hashlib
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from hubs.kernel.audit import audit_event_record
from hubs.kernel.background import enqueue_on_commit
from hubs.kernel.errors import DomainError
from hubs.kernel.idempotency import claim
from hubs.kernel.money import allocate
from hubs.kernel.transitions import transition
from hubs.models import OFFICER_ROLES, Hub, Role
from hubs.scoping import require_role
from logistics import documents
from logistics.carriers import CarrierNotSupported, CarrierRefused, CarrierTimeout, Rate, carrier
from logistics.models import (
    CONSIGNMENT_BOOKED,
    Consignment,
    Departure,
    DepartureStatus,
    ModeRule,
    Parcel,
    Shipment,
    ShipmentDocument,
    ShipmentStatus,
    TrackingEvent,
    UnitType,
)
from logistics.packing import Item, chargeable_weight, pack, volume_m3
from trade.models import Order, OrderStatus

# An order's parcels are received from its payment until it ships; they ride once its export is released.
RECEIVING = (OrderStatus.PAID, OrderStatus.EXPORT_DECLARED, OrderStatus.EXPORT_HELD, OrderStatus.EXPORT_RELEASED)
RIDING = (OrderStatus.EXPORT_RELEASED,)


def _positive(name: str, value) -> Decimal:
    if value is None or not Decimal(value).is_finite() or Decimal(value) <= 0:
        raise DomainError(f"A parcel's {name.replace('_', ' ')} is above zero.", code="invalid_parcel", attr=name)
    return Decimal(value)


def _measures(weight_kg, length_cm, width_cm, height_cm) -> dict[str, Decimal]:
    values = {"weight_kg": weight_kg, "length_cm": length_cm, "width_cm": width_cm, "height_cm": height_cm}
    return {name: _positive(name, value) for name, value in values.items()}


def shipping_rates(
    *,
    origin: str,
    destination: str,
    mode: str,
    currency: str,
    weight_kg: Decimal,
    length_cm: Decimal,
    width_cm: Decimal,
    height_cm: Decimal,
) -> tuple[Decimal, list[Rate]]:
    """A parcel's chargeable weight by `mode` between two active hubs (by code), and the carrier's rates for it."""
    measures = _measures(weight_kg, length_cm, width_cm, height_cm)
    if origin == destination or Hub.objects.filter(code__in=[origin, destination], active=True).count() != 2:
        raise DomainError(f"No route from {origin} to {destination}: two different active hubs.", code="unknown_route")
    rule = ModeRule.objects.get(mode=mode)
    chargeable = chargeable_weight(**measures, divisor_cm3_per_kg=rule.volumetric_divisor, step_kg=rule.step_kg)
    return chargeable, carrier().rates(
        origin=origin, destination=destination, chargeable_kg=chargeable, currency=currency
    )


def parcel_receive(
    *, actor, order: Order, weight_kg: Decimal, length_cm: Decimal, width_cm: Decimal, height_cm: Decimal
) -> Parcel:
    """Record a parcel of `order` received at its origin hub's fulfilment centre, by one of the hub's officers.
    Refused when a dimension is missing or not above zero, or when no unit on any route could carry it."""
    require_role(actor, order.origin_hub, *OFFICER_ROLES)
    measures = _measures(weight_kg, length_cm, width_cm, height_cm)
    volume = volume_m3(measures["length_cm"], measures["width_cm"], measures["height_cm"])
    if not UnitType.objects.filter(max_weight_kg__gte=measures["weight_kg"], max_volume_m3__gte=volume).exists():
        raise DomainError(
            f"A parcel of {measures['weight_kg']} kg and {volume:.3f} m³ is over every unit's limits.",
            code="parcel_too_large",
        )
    with transaction.atomic():
        order = Order.objects.select_for_update(no_key=True, of=("self",)).get(pk=order.pk)  # not cancelled meanwhile
        if order.status not in RECEIVING:
            raise DomainError(
                f"{order.public_id} is {order.get_status_display().lower()}: its parcels are received from payment "
                "until it ships.",
                code="invalid_transition",
            )
        _shipment_of(order)
        return Parcel.objects.create(order=order, **measures)


def _shipment_of(order: Order) -> Shipment:
    """The order's shipment, made with its first parcel: who sends and who receives, as they are now."""
    company, buyer = order.company, order.buyer
    shipment, _ = Shipment.objects.get_or_create(
        order=order,
        defaults={
            "sender": {"name": company.legal_name, "country": str(company.country), "hub": order.origin_hub.code},
            "receiver": {
                "name": buyer.name,
                "address": ", ".join(part for part in (buyer.address_line1, buyer.address_line2) if part),
                "city": buyer.city,
                "postal_code": buyer.postal_code,
                "country": str(buyer.country),
                "phone": buyer.phone,
            },
        },
    )
    return shipment


def departure_schedule(
    *,
    actor,
    origin_hub: Hub,
    destination_hub: Hub,
    unit_type: UnitType,
    units: int,
    unit_cost: Money,
    cut_off_at: datetime,
    departs_at: datetime,
) -> Departure:
    """Schedule a departure, by a supervisor of its origin hub. Its cut-off is in the future and not after it
    departs; it goes to another hub; it carries at least one unit, at a cost above zero."""
    require_role(actor, origin_hub, Role.HUB_SUPERVISOR)
    if destination_hub == origin_hub or not destination_hub.active:
        raise DomainError("A departure goes to another active hub.", code="unknown_route", attr="destination_hub")
    if timezone.is_naive(cut_off_at) or timezone.is_naive(departs_at):
        raise DomainError("Times carry their offset.", code="invalid", attr="cut_off_at")
    if cut_off_at <= timezone.now():
        raise DomainError("A cut-off is in the future.", code="cut_off_passed", attr="cut_off_at")
    if departs_at < cut_off_at:
        raise DomainError("A departure leaves after its cut-off.", code="invalid", attr="departs_at")
    if units < 1 or unit_cost.amount <= 0:
        raise DomainError("A departure carries at least one unit, at a cost above zero.", code="invalid")
    return Departure.objects.create(
        origin_hub=origin_hub,
        destination_hub=destination_hub,
        unit_type=unit_type,
        units=units,
        unit_cost=unit_cost,
        cut_off_at=cut_off_at,
        departs_at=departs_at,
    )


def departure_close(*, departure: Departure) -> Departure:
    """Close a departure at its cut-off: the parcels received on its route by the cut-off, whose orders' exports
    are released, packed into at most its units, the earliest received first; each consignment's cost shared by
    its parcels' chargeable weights. The parcels with no room wait for the next departure. Closing twice closes
    once."""
    with transaction.atomic():
        departure = (
            Departure.objects.select_for_update(no_key=True, of=("self",))
            .select_related("unit_type", "origin_hub", "destination_hub")
            .get(pk=departure.pk)
        )
        if departure.status != DepartureStatus.OPEN:
            return departure
        if timezone.now() < departure.cut_off_at:
            local = timezone.localtime(departure.cut_off_at, ZoneInfo(departure.origin_hub.timezone))
            raise DomainError(f"{departure} closes at its cut-off, {local:%Y-%m-%d %H:%M %Z}.", code="before_cut_off")
        unit, rule = departure.unit_type, ModeRule.objects.get(mode=departure.unit_type.mode)
        waiting = list(
            Parcel.objects.select_for_update(no_key=True)
            .filter(
                consignment=None,
                received_at__lte=departure.cut_off_at,
                order__origin_hub=departure.origin_hub_id,
                order__destination_hub=departure.destination_hub_id,
                order__status__in=RIDING,
            )
            .order_by("received_at", "pk")
        )
        packed, _ = pack(
            _earliest_that_fit(waiting, departure), unit.max_weight_kg, unit.max_volume_m3, departure.units
        )
        consignments = [_consign(departure, number, parcels, rule) for number, parcels in enumerate(packed, start=1)]
        from logistics.tasks import consignment_book_task  # the tasks call these services

        for consignment in consignments:
            enqueue_on_commit(consignment_book_task, consignment.pk)
        return transition(departure, DepartureStatus.CLOSED, actor=None, data={"consignments": len(packed)})


def _earliest_that_fit(parcels: list[Parcel], departure: Departure) -> list[Item]:
    """The parcels received first, as many as the departure's units could hold at most: the later ones wait."""
    unit = departure.unit_type
    room_kg, room_m3 = unit.max_weight_kg * departure.units, unit.max_volume_m3 * departure.units
    chosen, weight, volume = [], Decimal(0), Decimal(0)
    for parcel in parcels:
        size = volume_m3(parcel.length_cm, parcel.width_cm, parcel.height_cm)
        if weight + parcel.weight_kg > room_kg or volume + size > room_m3:
            break
        weight, volume = weight + parcel.weight_kg, volume + size
        chosen.append(Item(parcel, parcel.weight_kg, size))
    return chosen


def _consign(departure: Departure, number: int, items: list[Item], rule: ModeRule) -> Consignment:
    parcels = [item.key for item in items]
    for parcel in parcels:
        parcel.chargeable_kg = chargeable_weight(
            parcel.weight_kg,
            parcel.length_cm,
            parcel.width_cm,
            parcel.height_cm,
            divisor_cm3_per_kg=rule.volumetric_divisor,
            step_kg=rule.step_kg,
        )
    consignment = Consignment.objects.create(
        departure=departure,
        number=number,
        weight_kg=sum(item.weight_kg for item in items),
        volume_m3=sum(item.volume_m3 for item in items),
        chargeable_kg=sum(parcel.chargeable_kg for parcel in parcels),
        cost=departure.unit_cost,
    )
    shares = allocate(departure.unit_cost, [parcel.chargeable_kg for parcel in parcels])
    for parcel, share in zip(parcels, shares, strict=True):
        parcel.consignment, parcel.cost_share = consignment, share
    Parcel.objects.bulk_update(parcels, ["consignment", "chargeable_kg", "cost_share", "cost_share_currency"])
    return consignment


def consignment_book(*, consignment: Consignment) -> Consignment:
    """Book a consignment with the carrier under its own id as idempotency key, keeping what was sent and what
    came back. Once: a consignment booked is left alone, and a carrier asked again with the key (after a timeout)
    answers with the first booking. A refusal or a timeout leaves it to the next sweep."""
    with transaction.atomic():
        consignment = (
            Consignment.objects.select_for_update(no_key=True, of=("self",))
            .select_related("departure__origin_hub", "departure__destination_hub", "departure__unit_type")
            .get(pk=consignment.pk)
        )
        if consignment.booked_at is not None:
            return consignment
        departure = consignment.departure
        # The shipments of its parcels that have no waybill yet: the carrier gives each one with this booking.
        unbooked = list(
            Shipment.objects.filter(order__parcels__consignment=consignment, status=ShipmentStatus.CREATED)
            .distinct()
            .order_by("pk")
        )
        request = {
            "reference": consignment.public_id,
            "origin": departure.origin_hub.code,
            "destination": departure.destination_hub.code,
            "departs_at": departure.departs_at.isoformat(),
            "unit": departure.unit_type.code,
            "weight_kg": str(consignment.weight_kg),
            "volume_m3": str(consignment.volume_m3),
            "chargeable_kg": str(consignment.chargeable_kg),
            "parcels": list(consignment.parcels.values_list("public_id", flat=True)),
            "shipments": [
                {"reference": shipment.public_id, "sender": shipment.sender, "receiver": shipment.receiver}
                for shipment in unbooked
            ],
        }
        chosen = carrier()
        try:
            booked = chosen.book(key=consignment.public_id, request=request)
        except (CarrierRefused, CarrierTimeout):
            return consignment
        consignment.carrier, consignment.waybill, consignment.booked_at = chosen.name, booked.waybill, timezone.now()
        consignment.booking = {"request": booked.request, "response": booked.response}
        consignment.save(update_fields=["carrier", "waybill", "booked_at", "booking"])
        audit_event_record(actor=None, verb=CONSIGNMENT_BOOKED, target=consignment, data={"waybill": booked.waybill})
        for shipment, sent in zip(unbooked, request["shipments"], strict=True):
            shipment.carrier, shipment.waybill = chosen.name, booked.shipment_waybills[shipment.public_id]
            # Its own part of the answer only: the consignment's names other sellers' shipments.
            answer = {"shipments": {shipment.public_id: shipment.waybill}}
            shipment.booking = {"consignment": consignment.public_id, "request": sent, "response": answer}
            shipment.save(update_fields=["carrier", "waybill", "booking"])
            transition(shipment, ShipmentStatus.BOOKED, actor=None, data={"waybill": shipment.waybill})
    return consignment


def tracking_event_record(
    *,
    carrier_name: str,
    event_id: str,
    waybill: str,
    status: str,
    occurred_at: datetime,
    place: str = "",
    description: str = "",
) -> TrackingEvent:
    """Record what a carrier reported of the shipment with `waybill`, and move the shipment to `status` when its
    states allow (an event that arrives out of order is kept on the timeline, the state left as it is)."""
    shipment = Shipment.objects.filter(carrier=carrier_name, waybill=waybill).first()
    if shipment is None:
        raise DomainError(f"No shipment has the waybill {waybill}.", code="unknown_waybill", attr="waybill")
    event = TrackingEvent.objects.create(
        shipment=shipment,
        carrier_event_id=event_id,
        status=status,
        occurred_at=occurred_at,
        place=place,
        description=description,
    )
    if shipment.can_become(status):
        transition(shipment, status, actor=None, reason=description, data={"place": place, "event": event_id})
    return event


def shipment_document(*, shipment: Shipment, kind: str) -> ShipmentDocument:
    """The shipment's label or packing list: rendered and stored with its checksum the first time it is asked
    for, the stored one after. A shipment has documents once the carrier gave it its waybill."""
    stored = ShipmentDocument.objects.filter(shipment=shipment, kind=kind).first()
    if stored is not None:
        return stored
    if not shipment.waybill:
        raise DomainError(f"{shipment.public_id} has no waybill yet: its documents come with it.", code="not_booked")
    content = documents.render(kind, shipment)
    try:
        with transaction.atomic():
            return ShipmentDocument.objects.create(
                shipment=shipment, kind=kind, content=content, sha256=hashlib.sha256(content).hexdigest()
            )
    except IntegrityError:  # rendered meanwhile by a concurrent request: theirs is the one kept
        return ShipmentDocument.objects.get(shipment=shipment, kind=kind)


def carrier_events_scope() -> str:
    """Where the carrier's event ids are claimed, by its webhook and by polling alike: an event is applied once."""
    return f"carrier-events:{carrier().name}"


def shipment_track(*, shipment: Shipment) -> int:
    """Ask the carrier for the shipment's events and apply the new ones; how many were new. A carrier that does
    not answer is asked again next time."""
    chosen = carrier()
    try:
        updates = chosen.track(waybill=shipment.waybill)
    except (CarrierRefused, CarrierTimeout, CarrierNotSupported):
        return 0
    applied = 0
    for update in updates:
        with transaction.atomic():
            if claim(carrier_events_scope(), update.event_id) is None:
                continue
            tracking_event_record(
                carrier_name=chosen.name,
                event_id=update.event_id,
                waybill=shipment.waybill,
                status=update.status,
                occurred_at=update.occurred_at,
                place=update.place,
                description=update.description,
            )
            applied += 1
    return applied
