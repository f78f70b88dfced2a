"""Customs: an order's export declaration at its origin hub and import declaration at its destination hub, each
scored into a risk lane by the hub's own rules (data an officer edits) and decided by the platform (green) or an
officer (yellow: documents; red: inspection). An SME answers a hold with documents, kept with their checksum.
Hub to hub, the origin sends the destination a signed pre-arrival message once an export is released."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from hubs.kernel.audit import transition_verbs, verb
from hubs.kernel.ids import PublicIdField
from hubs.kernel.money import money_field
from hubs.kernel.transitions import StateMachine
from hubs.models import Hub
from hubs.scoping import TenantQuerySet


class Direction(models.TextChoices):
    EXPORT = "export", "Export"
    IMPORT = "import", "Import"


class Procedure(models.TextChoices):
    """The customs procedure (China's supervision codes; Malaysia's and others' by name)."""

    GENERAL_TRADE = "0110", "0110 General trade"
    CBEC_DIRECT = "9610", "9610 CBEC direct mail"
    CBEC_BONDED = "1210", "1210 Bonded CBEC"
    CBEC_B2B = "9710", "9710 CBEC B2B direct export"
    CBEC_OVERSEAS_WAREHOUSE = "9810", "9810 B2B export to an overseas warehouse"
    MARKET_PROCUREMENT = "1039", "1039 Market procurement"
    LOW_VALUE_GOODS = "lvg", "Low-value goods (LVG)"
    GENERAL = "general", "General"


class Lane(models.TextChoices):
    """ASYCUDA's selectivity lanes, in the order of their severity."""

    GREEN = "green", "Green: released at once"
    YELLOW = "yellow", "Yellow: document check"
    RED = "red", "Red: physical inspection"


LANE_ORDER = [Lane.GREEN, Lane.YELLOW, Lane.RED]


class DeclarationStatus(models.TextChoices):
    FILED = "filed", "Filed"
    HELD = "held", "Held for documents"
    INSPECTION = "inspection", "Inspection requested"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


transition_verbs(
    "declaration",
    {
        "filed": "Declaration answered by {actor}, back in review",
        "held": "Declaration held by {actor}",
        "inspection": "Inspection requested by {actor}",
        "released": "Declaration released by {actor}",
        "rejected": "Declaration rejected by {actor}",
    },
)
DECLARATION_FILED = verb("declaration.lodged", "{direction} declaration {declaration} filed at {hub}: {lane} lane")
DECLARATION_REROUTED = verb("declaration.rerouted", "Declaration re-routed from {from} to {to} by {actor}")
RISK_RULE_CHANGED = verb("risk_rule.changed", "Risk rule {rule} changed by {actor}")
DOCUMENT_ATTACHED = verb("declaration.document", "Document {name} attached by {actor}")

S = DeclarationStatus
# A declaration still to decide: in the officers' queue.
OPEN_STATUSES = [S.FILED, S.HELD, S.INSPECTION]


class Declaration(StateMachine, models.Model):
    """An order's declaration at one hub, in one direction: its procedure, parties and lines with the binding
    quote's duties and taxes, the lane its hub's risk rules gave it and why, and (import) what the three-document
    match found differing."""

    public_id = PublicIdField(prefix="DEC")
    order = models.ForeignKey("trade.Order", on_delete=models.PROTECT, related_name="declarations")
    direction = models.CharField(max_length=6, choices=Direction.choices)
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="declarations", help_text="Declared at.")
    procedure = models.CharField(max_length=8, choices=Procedure.choices)
    parts = models.JSONField(
        default=list,
        blank=True,
        help_text="Market procurement above its cap: [{number, lines: [{position, quantity, value}], value}], the "
        "declarations it is lodged as, each at most the cap.",
    )
    parties = models.JSONField(help_text="Exporter, importer and declarant, as they were when it was filed.")
    lines = models.JSONField(help_text="[{position, hs_code, description, quantity, value, origin, taxes}]")
    value = money_field()
    duties_and_taxes = money_field()
    lane = models.CharField(max_length=6, choices=Lane.choices)
    risk = models.JSONField(default=list, help_text="[{rule, lane, why}]: the risk rules it hit.")
    mismatches = models.JSONField(
        default=list, help_text="[{field, order, payment, waybill}]: where the three documents differ (import)."
    )
    documents_requested = models.TextField(blank=True)
    pre_arrival = models.JSONField(
        default=dict, blank=True, help_text="{message, lane, risk, applied_at}: the pre-arrival it was filed with."
    )
    summary = models.ForeignKey(
        "customs.SummaryDeclaration",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="declarations",
        help_text="A CBEC direct-mail export: the month's summary declaration it is declared in.",
    )
    status = models.CharField(max_length=10, choices=DeclarationStatus.choices, default=DeclarationStatus.FILED)
    filed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "order__company"
    tenant_hub = "hub"

    audit_name = "declaration"
    TRANSITIONS = {
        S.FILED: {S.HELD, S.INSPECTION, S.RELEASED, S.REJECTED},
        S.HELD: {S.FILED, S.INSPECTION, S.RELEASED, S.REJECTED},
        S.INSPECTION: {S.HELD, S.RELEASED, S.REJECTED},
    }

    class Meta:
        ordering = ["-filed_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["order", "direction"], name="one_declaration_per_direction")]
        indexes = [models.Index(fields=["hub", "status", "filed_at"], name="declaration_queue")]

    def __str__(self):
        return f"{self.public_id} ({self.get_direction_display().lower()})"

    @property
    def order_ref(self):
        return self.order.public_id

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES


class SummaryStatus(models.TextChoices):
    FILED = "filed", "Filed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


transition_verbs(
    "summary_declaration",
    {
        "accepted": "Summary declaration accepted by {actor}",
        "rejected": "Summary declaration rejected by {actor}",
    },
)
SUMMARY_FILED = verb(
    "summary_declaration.filed", "Summary declaration {summary} filed at {hub}: {count} exports of {month}"
)


class SummaryDeclaration(StateMachine, models.Model):
    """A month of one seller's CBEC direct-mail (9610) exports from one hub to one country, declared in summary
    (GACC Ann. 2018 No. 194; message 701): each export was released by its own list, and the summary adds them up
    per HS code for the hub, which accepts or rejects it (792)."""

    public_id = PublicIdField(prefix="SUM")
    hub = models.ForeignKey(
        Hub, on_delete=models.PROTECT, related_name="summary_declarations", help_text="Exported from."
    )
    company = models.ForeignKey("hubs.Company", on_delete=models.PROTECT, related_name="summary_declarations")
    month = models.DateField(help_text="The first day of the month its exports were released in, at the hub.")
    destination_country = CountryField()
    lines = models.JSONField(help_text="[{hs_code, description, quantity, value, orders}], one per HS code.")
    value = money_field()
    status = models.CharField(max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.FILED)
    filed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = "hub"

    audit_name = "summary_declaration"
    TRANSITIONS = {SummaryStatus.FILED: {SummaryStatus.ACCEPTED, SummaryStatus.REJECTED}}

    class Meta:
        ordering = ["-month", "-filed_at", "-pk"]
        indexes = [models.Index(fields=["hub", "status", "filed_at"], name="summary_queue")]

    def __str__(self):
        return f"{self.public_id} ({self.month:%Y-%m})"


class DeclarationDocument(models.Model):
    """A document an SME sent to answer a hold: its bytes as uploaded, with their SHA-256."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="documents")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_company = "declaration__order__company"
    tenant_hub = "declaration__hub"

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.name


class RiskRuleKind(models.TextChoices):
    LOW_VALUE = "low_value", "Value far below the listing's usual price"
    RESTRICTED_GOODS = "restricted_goods", "Restricted or permit goods"
    NEW_SELLER = "new_seller", "New seller"
    CONSUMER_NEAR_LIMIT = "consumer_near_limit", "Consumer near the annual limit"
    WEIGHT_MISMATCH = "weight_mismatch", "Weight on the waybill far from the listing's"
    RANDOM = "random", "Random selection"


class RiskRule(models.Model):
    """One of a hub's selectivity criteria: when it hits a declaration, the declaration goes at least to `lane`.

    `threshold` reads by kind: low value, the share of the listing's price below which a line is suspicious
    (0.5); new seller, the declarations released for the company at the hub below which it is new (3);
    consumer near the limit, the share of the annual limit used (0.9); weight mismatch, the relative difference
    (0.25); random, the rate (0.05). Restricted goods list their HS prefixes."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="risk_rules")
    kind = models.CharField(max_length=20, choices=RiskRuleKind.choices)
    direction = models.CharField(max_length=6, choices=Direction.choices, blank=True, help_text="Blank: both.")
    threshold = models.DecimalField(
        max_digits=10, decimal_places=4, default=0, validators=[MinValueValidator(0), MaxValueValidator(1000)]
    )
    hs_prefixes = models.CharField(
        max_length=500, blank=True, help_text="Restricted goods: HS prefixes, separated by spaces or commas."
    )
    lane = models.CharField(max_length=6, choices=[(Lane.YELLOW, "Yellow"), (Lane.RED, "Red")])
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True, help_text="Why the hub has this rule.")

    objects = TenantQuerySet.as_manager()
    tenant_hub = "hub"
    tenant_company = None

    class Meta:
        ordering = ["hub", "kind", "pk"]

    def __str__(self):
        return f"{self.hub.code}: {self.get_kind_display()} → {self.lane}"

    @property
    def prefixes(self) -> list[str]:
        return [part for part in self.hs_prefixes.replace(",", " ").split() if part]


class Taxpayer(models.TextChoices):
    TRADING = "trading", "Trading company"
    MANUFACTURER = "manufacturer", "Manufacturer (exempt, credit, refund)"


class RefundClaimStatus(models.TextChoices):
    NOT_DUE = "not_due", "No refund due"
    COMPUTED = "computed", "Computed, not filed"
    FILED = "filed", "Filed with the hub"
    PAID = "paid", "Approved and paid"
    REJECTED = "rejected", "Rejected"


transition_verbs(
    "refund_claim",
    {
        "filed": "Export VAT refund claim filed by {actor}",
        "paid": "Export VAT refund approved by {actor} and paid",
        "rejected": "Export VAT refund claim rejected by {actor}",
    },
)
REFUND_COMPUTED = verb("refund_claim.computed", "Export VAT refund of {amount} computed for {claim}")


class RefundClaim(StateMachine, models.Model):
    """An order's export VAT refund, where its origin hub grants one: computed at the rates in force on the export
    date (a trading company's gross ÷ (1 + VAT) × refund rate, or a manufacturer's exempt-credit-refund limit),
    filed by the seller, approved (paid from the hub's tax account through the ledger) or rejected by the hub."""

    public_id = PublicIdField(prefix="RFC")
    order = models.OneToOneField("trade.Order", on_delete=models.PROTECT, related_name="refund_claim")
    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="refund_claims", help_text="Exported from.")
    company = models.ForeignKey("hubs.Company", on_delete=models.PROTECT, related_name="refund_claims")
    export_date = models.DateField(help_text="The export's release, at the hub: its rates apply.")
    rule_set_version = models.PositiveIntegerField()
    lines = models.JSONField(help_text="[{position, hs_code, gross, vat_rate, refund_rate}] at the export date.")
    taxpayer = models.CharField(max_length=12, choices=Taxpayer.choices, default=Taxpayer.TRADING)
    uncredited_input_vat = money_field(null=True, blank=True, help_text="A manufacturer's, at the period's end.")
    amount = money_field()
    explanation = models.TextField()
    status = models.CharField(max_length=10, choices=RefundClaimStatus.choices, default=RefundClaimStatus.COMPUTED)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = "hub"

    audit_name = "refund_claim"
    TRANSITIONS = {
        RefundClaimStatus.COMPUTED: {RefundClaimStatus.FILED},
        RefundClaimStatus.FILED: {RefundClaimStatus.PAID, RefundClaimStatus.REJECTED},
    }

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.public_id

    @property
    def order_ref(self):
        return self.order.public_id


# --- hub to hub: pre-arrival messages (ACDD / WCO PLACI data), signed per hub pair ---------------------------------

HUB_KEY_ROTATED = verb("hub_key.rotated", "Key {key} of {origin} → {destination} rotated by {actor}")
HUB_KEY_RETIRED = verb("hub_key.retired", "Key {key} of {origin} → {destination} retired by {actor}")


class HubKey(models.Model):
    """A secret one hub signs its messages to another with. Rotation: the newest key not due to retire signs; the
    older ones still verify until their `retired_at`, so that messages in flight are not refused."""

    key_id = PublicIdField(prefix="HKY")
    origin_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    destination_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    secret = models.CharField(max_length=64, editable=False)
    active_from = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True, help_text="From then on it verifies nothing.")

    objects = TenantQuerySet.as_manager()
    tenant_hub = ("origin_hub", "destination_hub")
    tenant_company = None

    class Meta:
        ordering = ["origin_hub", "destination_hub", "-active_from", "-pk"]

    def __str__(self):
        return self.key_id

    def verifies_at(self, when) -> bool:
        return self.active_from <= when and (self.retired_at is None or when < self.retired_at)


class HubMessageKind(models.TextChoices):
    PRE_ARRIVAL = "pre_arrival", "Pre-arrival (ACDD / PLACI)"


class HubMessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed, to be sent again"


transition_verbs(
    "hub_message",
    {
        "sent": "Message {message} sent to {destination}",
        "applied": "Message {message} applied at {destination}: pre-scored {lane}",
        "failed": "Message {message} not delivered to {destination}, to be sent again",
    },
)
HUB_MESSAGE_QUEUED = verb("hub_message.queued", "Message {message} (#{sequence}) queued for {destination}")
HUB_MESSAGE_REFUSED = verb("hub_message.refused", "Message {message} refused at {destination}: {code}")

M = HubMessageStatus


class HubMessage(StateMachine, models.Model):
    """One message from an order's origin hub to its destination hub: the origin's outbox row (pending until the
    destination acknowledges it, sent again with back-off when it fails) and the destination's inbox row (applied
    once, in the pair's sequence, with the pre-score the destination's risk rules gave it)."""

    public_id = PublicIdField(prefix="HMS")
    origin_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    destination_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("trade.Order", on_delete=models.PROTECT, related_name="hub_messages")
    kind = models.CharField(max_length=20, choices=HubMessageKind.choices)
    sequence = models.PositiveIntegerField(help_text="Its number among the pair's messages, from 1.")
    payload = models.JSONField(help_text="The ACDD / PLACI data set, as signed.")
    pre_score = models.JSONField(default=dict, blank=True, help_text="{lane, risk}: the destination's risk rules.")
    status = models.CharField(max_length=10, choices=HubMessageStatus.choices, default=HubMessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When it was last sent.")
    applied_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_hub = ("origin_hub", "destination_hub")
    tenant_company = "order__company"

    audit_name = "hub_message"
    TRANSITIONS = {M.PENDING: {M.SENT, M.APPLIED, M.FAILED}, M.FAILED: {M.SENT, M.APPLIED}, M.SENT: {M.APPLIED}}

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["origin_hub", "destination_hub", "sequence"], name="one_message_number"),
            models.UniqueConstraint(fields=["order", "kind"], name="one_message_of_a_kind_per_order"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="hub_message_due")]

    def __str__(self):
        return f"{self.public_id} ({self.get_kind_display()})"

    @property
    def order_ref(self):
        return self.order.public_id
