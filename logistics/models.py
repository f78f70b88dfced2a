"""Consolidation: parcels of many SMEs' orders, received at the origin hub, packed at a departure's cut-off into
shared consignments (air ULDs, containers) whose cost each SME shares by its chargeable weight. Transport modes'
volumetric divisors and units' capacities are data (seeded from the reference facts, edited in the console)."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from hubs.kernel.audit import transition_verbs, verb
from hubs.kernel.ids import PublicIdField
from hubs.kernel.money import money_field
from hubs.kernel.transitions import StateMachine
from hubs.models import Hub
from hubs.scoping import TenantQuerySet


class TransportMode(models.TextChoices):
    AIR = "air", "Air"
    COURIER = "courier", "Courier"
    SEA = "sea", "Sea"


def _measure(digits=10, places=3, **kwargs):
    return models.DecimalField(
        max_digits=digits, decimal_places=places, validators=[MinValueValidator(Decimal("0.001"))], **kwargs
    )


class ModeRule(models.Model):
    """How a transport mode charges a parcel: the greater of its weight and its volume ÷ the divisor, rounded up
    to the step."""

    mode = models.CharField(max_length=10, choices=TransportMode.choices, unique=True)
    volumetric_divisor = _measure(places=0, help_text="cm³ counted as one kilogram (air 6,000; courier 5,000).")
    step_kg = _measure(help_text="Chargeable weight is rounded up to a multiple of this.")
    source = models.CharField(max_length=200, blank=True, help_text="Where the figures come from; UNVERIFIED if so.")

    def __str__(self):
        return f"{self.get_mode_display()}: ÷{self.volumetric_divisor} cm³/kg, rounded up to {self.step_kg} kg"


class UnitType(models.Model):
    """A unit that carries a consignment (an LD3 or PMC air ULD, a 20′ or 40′ container) and its limits."""

    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=60)
    mode = models.CharField(max_length=10, choices=TransportMode.choices)
    max_weight_kg = _measure(places=1)
    max_volume_m3 = _measure(digits=8)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["mode", "code"]

    def __str__(self):
        return f"{self.code} ({self.max_weight_kg:,} kg, {self.max_volume_m3} m³)"


class DepartureStatus(models.TextChoices):
    OPEN = "open", "Open for parcels"
    CLOSED = "closed", "Closed at cut-off"


transition_verbs("departure", {"closed": "Departure {departure} closed at cut-off"})
CONSIGNMENT_BOOKED = verb("consignment.booked", "Consignment {consignment} booked with the carrier")


class Departure(StateMachine, models.Model):
    """A departure from one hub to another carrying up to `units` units of one type, each costing `unit_cost`.
    Parcels received at the origin hub by the cut-off ride on it, packed at the cut-off; the rest wait for the
    next one."""

    public_id = PublicIdField(prefix="DEP")
    origin_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="departures")
    destination_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="arrivals")
    unit_type = models.ForeignKey(UnitType, on_delete=models.PROTECT, related_name="departures")
    units = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)], help_text="Units it can carry.")
    unit_cost = money_field(help_text="What one unit costs, shared by the parcels in it.")
    cut_off_at = models.DateTimeField(help_text="Parcels received after this wait for the next departure.")
    departs_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DepartureStatus.choices, default=DepartureStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_hub = ("origin_hub", "destination_hub")

    audit_name = "departure"
    TRANSITIONS = {DepartureStatus.OPEN: {DepartureStatus.CLOSED}}

    class Meta:
        ordering = ["cut_off_at", "pk"]
        indexes = [models.Index(fields=["status", "cut_off_at"], name="departure_due")]
        constraints = [
            models.CheckConstraint(
                name="departure_cut_off_before_it_departs", condition=Q(cut_off_at__lte=F("departs_at"))
            ),
            models.CheckConstraint(name="departure_between_two_hubs", condition=~Q(origin_hub=F("destination_hub"))),
        ]

    def __str__(self):
        return f"{self.public_id} {self.origin_hub.code}→{self.destination_hub.code}"


class Consignment(models.Model):
    """One unit of a departure, with the parcels packed into it and its cost."""

    public_id = PublicIdField(prefix="CON")
    departure = models.ForeignKey(Departure, on_delete=models.PROTECT, related_name="consignments")
    number = models.PositiveSmallIntegerField()
    weight_kg = _measure(places=1)
    volume_m3 = _measure(digits=8)
    chargeable_kg = _measure(places=1)
    cost = money_field()
    carrier = models.CharField(max_length=40, blank=True)
    waybill = models.CharField(max_length=40, blank=True, help_text="The carrier's master waybill, once booked.")
    booked_at = models.DateTimeField(null=True, blank=True)
    booking = models.JSONField(default=dict, blank=True, help_text="What was sent to the carrier and its answer.")

    objects = TenantQuerySet.as_manager()
    tenant_hub = ("departure__origin_hub", "departure__destination_hub")

    class Meta:
        ordering = ["departure", "number"]
        constraints = [
            models.UniqueConstraint(fields=["departure", "number"], name="one_consignment_number_per_departure"),
            models.UniqueConstraint(
                fields=["carrier", "waybill"], condition=~Q(waybill=""), name="one_waybill_per_carrier"
            ),
        ]

    def __str__(self):
        return f"{self.public_id} ({self.departure.public_id} #{self.number})"

    @property
    def utilisation(self) -> Decimal:
        """The share of the unit used, in the tighter of its limits."""
        unit = self.departure.unit_type
        return max(self.weight_kg / unit.max_weight_kg, self.volume_m3 / unit.max_volume_m3)


class Parcel(models.Model):
    """A parcel of an order, received at its origin hub's fulfilment centre; packed into a consignment at the
    cut-off of the first departure on its route with room, with its share of the consignment's cost."""

    public_id = PublicIdField(prefix="PCL")
    order = models.ForeignKey("trade.Order", on_delete=models.PROTECT, related_name="parcels")
    weight_kg = _measure(places=1)
    length_cm = _measure(places=1)
    width_cm = _measure(places=1)
    height_cm = _measure(places=1)
    received_at = models.DateTimeField(default=timezone.now)
    consignment = models.ForeignKey(
        Consignment, null=True, blank=True, on_delete=models.PROTECT, related_name="parcels"
    )
    chargeable_kg = _measure(places=1, null=True, blank=True)
    cost_share = money_field(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "order__company"
    tenant_hub = ("order__origin_hub", "order__destination_hub")

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["consignment", "received_at"], name="parcel_waiting")]

    def __str__(self):
        return f"{self.public_id} of {self.order.public_id}"


class ShipmentStatus(models.TextChoices):
    CREATED = "created", "Created"
    BOOKED = "booked", "Booked with the carrier"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    LOST = "lost", "Lost"
    DAMAGED = "damaged", "Damaged"
    RETURNED = "returned", "Returned"


transition_verbs(
    "shipment",
    {
        "booked": "Shipment booked with the carrier",
        "in_transit": "Shipment in transit",
        "delivered": "Shipment delivered",
        "lost": "Shipment lost",
        "damaged": "Shipment damaged",
        "returned": "Shipment returned",
    },
)


class Shipment(StateMachine, models.Model):
    """An order's goods on their way, with who sends and who receives them as they were when it was made, and
    the waybill the carrier gave it when its first consignment was booked. Its parcels are the order's."""

    public_id = PublicIdField(prefix="SHP")
    order = models.OneToOneField("trade.Order", on_delete=models.PROTECT, related_name="shipment")
    sender = models.JSONField(help_text="The seller, as it was when the shipment was made.")
    receiver = models.JSONField(help_text="The buyer, as it was when the shipment was made.")
    carrier = models.CharField(max_length=40, blank=True)
    waybill = models.CharField(max_length=40, blank=True)
    booking = models.JSONField(default=dict, blank=True, help_text="What was sent to the carrier and its answer.")
    status = models.CharField(max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.CREATED)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_company = "order__company"
    tenant_hub = ("order__origin_hub", "order__destination_hub")

    audit_name = "shipment"
    state_changed_field = "status_changed_at"
    TRANSITIONS = {
        ShipmentStatus.CREATED: {ShipmentStatus.BOOKED},
        ShipmentStatus.BOOKED: {ShipmentStatus.IN_TRANSIT, ShipmentStatus.LOST},
        ShipmentStatus.IN_TRANSIT: {
            ShipmentStatus.DELIVERED,
            ShipmentStatus.LOST,
            ShipmentStatus.DAMAGED,
            ShipmentStatus.RETURNED,
        },
        ShipmentStatus.DELIVERED: {ShipmentStatus.RETURNED},  # the buyer sent the goods back
    }

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="shipment_status_since")]  # sweepers
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "waybill"], condition=~Q(waybill=""), name="one_shipment_waybill_per_carrier"
            )
        ]

    def __str__(self):
        return f"{self.public_id} ({self.waybill or 'no waybill yet'})"


class TrackingEvent(models.Model):
    """What the carrier reported of a shipment: when (with its offset), where, and what."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="tracking")
    carrier_event_id = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=ShipmentStatus.choices)
    occurred_at = models.DateTimeField()
    place = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=300, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "shipment__order__company"
    tenant_hub = ("shipment__order__origin_hub", "shipment__order__destination_hub")

    class Meta:
        ordering = ["occurred_at", "pk"]

    def __str__(self):
        return f"{self.shipment.public_id} {self.status} at {self.place}"


class DocumentKind(models.TextChoices):
    LABEL = "label", "Shipping label"
    PACKING_LIST = "packing_list", "Packing list"


class ShipmentDocument(models.Model):
    """A shipment's document as rendered once, with the SHA-256 of its bytes: what is downloaded is what was made."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=12, choices=DocumentKind.choices)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_company = "shipment__order__company"
    tenant_hub = ("shipment__order__origin_hub", "shipment__order__destination_hub")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shipment", "kind"], name="one_document_of_a_kind")]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.shipment.public_id}"


class SimulatedCarrierBooking(models.Model):
    """The simulated carrier's own record of its bookings: one per key."""

    key = models.CharField(max_length=200, unique=True)
    waybill = models.CharField(max_length=40, unique=True)
    request = models.JSONField()
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.waybill
