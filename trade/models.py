from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from hubs.kernel.audit import verb
from hubs.kernel.ids import PublicIdField
from hubs.kernel.money import money_field
from hubs.kernel.transitions import StateMachine
from hubs.models import Company, Hub, RuleSet
from hubs.scoping import TenantQuerySet
from hubs.tariff import ExportRegime, Regime

LISTING_CREATED = verb("listing.created", "Listed by {actor}")
LISTING_UPDATED = verb("listing.updated", "Edited by {actor}")
LISTING_ARCHIVED = verb("listing.archived", "Archived by {actor}")
LISTING_RESTOCKED = verb("listing.restocked", "Stock {change} by {actor}: {stock} in stock")
QUOTE_CREATED = verb("quote.created", "Quoted by {actor} for {company}")
ORDER_PLACED = verb("order.placed", "Placed by {actor} for {company}")


class Unit(models.TextChoices):
    GRAM = "g", "gram"
    KILOGRAM = "kg", "kilogram"
    MILLILITRE = "ml", "millilitre"
    LITRE = "l", "litre"
    PIECE = "piece", "piece"


class ListingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Listing(models.Model):
    """Goods an SME offers from its hub, priced per unit in its home currency."""

    public_id = PublicIdField(prefix="LST")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="listings")
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="listings", help_text="Where it ships from.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    hs_code = models.CharField(max_length=10, help_text="6-digit HS subheading or a national code extending one.")
    origin_country = CountryField()
    unit_price = money_field()
    unit_weight_kg = models.DecimalField(max_digits=10, decimal_places=3)
    length_cm = models.DecimalField(max_digits=8, decimal_places=1)
    width_cm = models.DecimalField(max_digits=8, decimal_places=1)
    height_cm = models.DecimalField(max_digits=8, decimal_places=1)
    measure_quantity = models.DecimalField(
        max_digits=10, decimal_places=3, default=1, help_text="What one unit holds: 20 (g), 750 (ml), 1 (piece)."
    )
    measure_unit = models.CharField(max_length=5, choices=Unit.choices, default=Unit.PIECE)
    stock = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ListingStatus.choices, default=ListingStatus.DRAFT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = "hub"

    # The most units a listing holds: the largest integer column of every database.
    MAX_STOCK = 2_147_483_647

    # What a seller sets; the rest (ids, company, hub, times) the platform does.
    EDITABLE_FIELDS = (
        "title",
        "description",
        "hs_code",
        "origin_country",
        "unit_price",
        "unit_weight_kg",
        "length_cm",
        "width_cm",
        "height_cm",
        "measure_quantity",
        "measure_unit",
        "stock",
        "status",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        # A seller's listings and a hub's, newest first (their search reads no other company's).
        indexes = [
            models.Index(fields=["company", "-created_at", "-id"], name="listing_company_recent"),
            models.Index(fields=["hub", "-created_at", "-id"], name="listing_hub_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="listing_price_positive"),
            models.CheckConstraint(condition=Q(measure_quantity__gt=0), name="listing_measure_positive"),
        ]

    def __str__(self):
        return f"{self.public_id} {self.title}"


class BuyerKind(models.TextChoices):
    CONSUMER = "consumer", "Consumer"
    BUSINESS = "business", "Business"


class Buyer(models.Model):
    """A seller's customer. A consumer's ID number is kept only masked and as a keyed hash."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="buyers")
    kind = models.CharField(max_length=10, choices=BuyerKind.choices)
    name = models.CharField(max_length=200)
    id_number_masked = models.CharField(max_length=40, blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    registration_number = models.CharField(max_length=64, blank=True, help_text="A business buyer's registration.")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20, blank=True)
    country = CountryField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = None

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="business") | ~Q(id_number_hash=""), name="buyer_consumer_has_id_number"
            ),
        ]

    def __str__(self):
        return self.name


class Quote(models.Model):
    """A landed-cost quote: its figures bind until `expires_at`, whatever the rules do after."""

    public_id = PublicIdField(prefix="QUO")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="quotes")
    origin_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    destination_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="quotes")
    regime = models.CharField(max_length=20, choices=Regime.choices)
    explanation = models.TextField()
    consumer_hash = models.CharField(max_length=64, blank=True)
    consumer_masked = models.CharField(max_length=40, blank=True)
    goods = money_field()
    freight = money_field()
    insurance = money_field()
    duties_and_taxes = money_field()
    total = money_field()
    quota_counted = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    export_regime = models.CharField(max_length=20, choices=ExportRegime.choices, blank=True)
    export_refund = money_field(null=True, blank=True, help_text="Empty where it cannot be told in this currency.")
    export_declarations = models.PositiveIntegerField(null=True, blank=True)
    export_parts = models.JSONField(
        default=list, blank=True, help_text="Market procurement: [[{position, quantity}]], each declaration's units."
    )
    export_explanation = models.TextField(blank=True)
    conversions = models.JSONField(
        default=list,
        blank=True,
        help_text="[{figure, from, to, rate, rate_date, source, snapshots, explanation}]: each converted figure.",
    )
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = ("origin_hub", "destination_hub")

    class Meta:
        ordering = ["-created_at", "-id"]
        # The quote lists, newest first: a seller's, and each hub's (an officer's or a hub system's).
        indexes = [
            models.Index(fields=["company", "-created_at", "-id"], name="quote_company_recent"),
            models.Index(fields=["origin_hub", "-created_at", "-id"], name="quote_origin_recent"),
            models.Index(fields=["destination_hub", "-created_at", "-id"], name="quote_destination_recent"),
        ]

    def __str__(self):
        return self.public_id

    @property
    def is_expired(self):
        return timezone.now() >= self.expires_at


class LineFigures(models.Model):
    """What a quote line and an order line share: the goods and the taxes on them, as quoted."""

    listing = models.ForeignKey("trade.Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200)
    hs_code = models.CharField(max_length=10)
    quantity = models.PositiveIntegerField()
    unit_price = money_field()
    measure_quantity = models.DecimalField(max_digits=10, decimal_places=3)
    measure_unit = models.CharField(max_length=5, choices=Unit.choices)
    value = money_field()
    freight_share = money_field()
    taxes = models.JSONField(help_text="[{kind, rate, base, amount, explanation}] as quoted.")
    taxes_total = money_field()

    class Meta:
        abstract = True
        ordering = ["position"]


class QuoteLine(LineFigures):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Placed"
    PAID = "paid", "Paid into escrow"
    EXPORT_DECLARED = "export_declared", "Export declared"
    EXPORT_HELD = "export_held", "Held at export"
    EXPORT_RELEASED = "export_released", "Export released"
    SHIPPED = "shipped", "Shipped"
    IMPORT_DECLARED = "import_declared", "Import declared"
    IMPORT_HELD = "import_held", "Held at import"
    IMPORT_RELEASED = "import_released", "Import released"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REJECTED = "rejected", "Rejected"
    REFUNDED = "refunded", "Refunded"


S = OrderStatus
# The order's journey (DESIGN.md): which state may follow which. Each transition has one service.
ORDER_TRANSITIONS = {
    S.PLACED: {S.PAID, S.CANCELLED},
    S.PAID: {S.EXPORT_DECLARED, S.REFUNDED},
    S.EXPORT_DECLARED: {S.EXPORT_HELD, S.EXPORT_RELEASED, S.REJECTED},
    S.EXPORT_HELD: {S.EXPORT_RELEASED, S.REJECTED},
    S.EXPORT_RELEASED: {S.SHIPPED},
    S.SHIPPED: {S.IMPORT_DECLARED},
    S.IMPORT_DECLARED: {S.IMPORT_HELD, S.IMPORT_RELEASED, S.REJECTED},
    S.IMPORT_HELD: {S.IMPORT_RELEASED, S.REJECTED},
    S.IMPORT_RELEASED: {S.DELIVERED},
    S.DELIVERED: {S.COMPLETED, S.REFUNDED},
    S.REJECTED: {S.REFUNDED},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}


# Orders on their way to import release: their quota share is not in the ledger yet.
QUOTA_PENDING_STATUSES = [
    S.PLACED,
    S.PAID,
    S.EXPORT_DECLARED,
    S.EXPORT_HELD,
    S.EXPORT_RELEASED,
    S.SHIPPED,
    S.IMPORT_DECLARED,
    S.IMPORT_HELD,
]


# Each later state of an order is a transition verb: "Cancelled by yiwu-crafts".
ORDER_TRANSITION_VERBS = {
    status: verb(f"order.{status.value}", f"{status.label} by {{actor}}")
    for status in OrderStatus
    if status != OrderStatus.PLACED
}


class Order(StateMachine, models.Model):
    public_id = PublicIdField(prefix="ORD")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders")
    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="order")
    origin_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    destination_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    regime = models.CharField(max_length=20, choices=Regime.choices)
    goods = money_field()
    freight = money_field()
    insurance = money_field()
    duties_and_taxes = money_field()
    total = money_field()
    placed_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    quota_year = models.PositiveSmallIntegerField(help_text="The destination hub's local year at placement.")
    # The quote's consumer and quota share, copied so that a consumer's year is read from one index of orders.
    consumer_hash = models.CharField(max_length=64, blank=True, editable=False)
    quota_counted = models.DecimalField(max_digits=14, decimal_places=2, default=0, editable=False)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = ("origin_hub", "destination_hub")

    audit_name = "order"
    TRANSITIONS = ORDER_TRANSITIONS
    state_changed_field = "status_changed_at"

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["company", "status"]),
            # The journey's sweepers: the orders in a state for longer than a reaction takes.
            models.Index(fields=["status", "status_changed_at"], name="order_status_since"),
            # The order lists, newest first: a seller's, and each hub's (an officer's or a hub system's).
            models.Index(fields=["company", "-placed_at", "-id"], name="order_company_recent"),
            models.Index(fields=["origin_hub", "-placed_at", "-id"], name="order_origin_recent"),
            models.Index(fields=["destination_hub", "-placed_at", "-id"], name="order_destination_recent"),
            # A consumer's orders on their way at a hub in a year, and their quota share: `_consumer_usage`
            # reads them from this index alone.
            models.Index(
                fields=["destination_hub", "consumer_hash", "quota_year", "status", "quota_counted"],
                name="order_consumer_year",
            ),
        ]

    def __str__(self):
        return self.public_id

    @property
    def order_ref(self):
        return self.public_id


class OrderLine(LineFigures):
    """A quote line frozen into the order: what was sold, at what price and taxes."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
