from datetime import datetime
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_countries.fields import CountryField
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from hubs import tariff
from hubs.kernel.audit import event_sentence, transition_verbs, verb
from hubs.kernel.cache import Generation, Memo
from hubs.kernel.ids import PublicIdField
from hubs.kernel.money import is_currency_code
from hubs.kernel.transitions import StateMachine
from hubs.scoping import TenantQuerySet

API_KEY_ISSUED = verb("api_key.issued", "Key “{name}” issued by {actor}")
API_KEY_REVOKED = verb("api_key.revoked", "Key revoked by {actor}")
COMPANY_VERIFIED = verb("company.verified", "Verified by {actor}")
RULE_SET_DRAFTED = verb("rule_set.drafted", "Drafted by {actor} from version {from_version}")
RULE_SET_EDITED = verb("rule_set.edited", "Draft edited by {actor}")
RULE_SET_PUBLISHED = verb("rule_set.published", "Published by {actor}, in force from {effective_from}")
RULE_SET_WITHDRAWN = verb("rule_set.withdrawn", "Withdrawn by {actor} before it took effect on {effective_from}")
RULE_SET_SUPERSEDED = verb(
    "rule_set.superseded", "Superseded by version {by_version}, published by {actor} for {effective_from}"
)
RULE_SET_DISCARDED = verb("rule_set.discarded", "Draft discarded by {actor}")
FX_RATE_ENTERED = verb("fx_rate.entered", "Rate {base}/{quote} {rate} for {rate_date} entered by {actor}")


def currency_choices():
    return [(code, code) for code in settings.CURRENCIES]


def validate_timezone(value):
    if value not in available_timezones():
        raise ValidationError(f"“{value}” is not an IANA time zone such as Asia/Shanghai.", code="invalid_timezone")


class User(AbstractUser):
    """A person: SME staff, hub officer or integrator. What it may see comes from its memberships."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Hub(models.Model):
    """An eHub: a tenant with its own customs and tax rules. Adding one is data, never code."""

    code = models.CharField(
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{3}$", "A hub code is three capital letters, such as HGH.")],
    )
    name = models.CharField(max_length=200)
    country = CountryField()
    currency = models.CharField(max_length=3, choices=currency_choices)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    active = models.BooleanField(default=True)
    fx_max_age_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Quotes into this hub refuse a reference rate older than this many days; empty: any age.",
    )

    objects = TenantQuerySet.as_manager()
    tenant_hub = "id"
    tenant_company = None

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Company(StateMachine, models.Model):
    """An SME seller, registered at its home hub and paid out in its home currency."""

    legal_name = models.CharField(max_length=200)
    country = CountryField()
    home_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="companies")
    registration_number = models.CharField(max_length=64)
    home_currency = models.CharField(max_length=3, choices=currency_choices)
    verified = models.BooleanField(default=False, help_text="Checked by a supervisor of the home hub.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Kept by the webhook endpoints' services, so that a state change of a company without endpoints (most of
    # them) asks nothing more of the database: its audit event reads the flag on the row it already holds.
    has_webhook_endpoints = models.BooleanField(
        default=False, editable=False, help_text="Whether it has an active partner webhook endpoint."
    )

    objects = TenantQuerySet.as_manager()
    tenant_hub = "home_hub"
    tenant_company = "id"

    state_field = "verified"
    audit_name = "company"
    TRANSITIONS = {False: {True}}
    STATE_NAMES = {True: "verified", False: "not verified"}

    class Meta:
        ordering = ["legal_name"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(fields=["country", "registration_number"], name="company_registration_unique"),
        ]

    def __str__(self):
        return self.legal_name


class Role(models.TextChoices):
    SELLER_ADMIN = "seller_admin", "Seller admin"
    SELLER_STAFF = "seller_staff", "Seller staff"
    HUB_OFFICER = "hub_officer", "Hub officer"
    HUB_SUPERVISOR = "hub_supervisor", "Hub supervisor"
    INTEGRATOR = "integrator", "Integrator"


COMPANY_ROLES = (Role.SELLER_ADMIN, Role.SELLER_STAFF, Role.INTEGRATOR)
HUB_ROLES = (Role.HUB_OFFICER, Role.HUB_SUPERVISOR, Role.INTEGRATOR)
OFFICER_ROLES = (Role.HUB_OFFICER, Role.HUB_SUPERVISOR)


class Membership(models.Model):
    """A user's role at one company (sellers, integrators) or one hub (officers, hub systems)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")
    hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()
    tenant_hub = "hub"
    tenant_company = "company"

    class Meta:
        ordering = ["user__username", "role"]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, hub__isnull=True, role__in=COMPANY_ROLES)
                | Q(company__isnull=True, hub__isnull=False, role__in=HUB_ROLES),
                name="membership_bound_to_company_or_hub_by_role",
                violation_error_message="Seller roles bind to a company, officer roles to a hub, "
                "an integrator to one of the two.",
            ),
            models.UniqueConstraint(
                fields=["user", "company"], condition=Q(company__isnull=False), name="membership_one_per_company"
            ),
            models.UniqueConstraint(
                fields=["user", "hub"], condition=Q(hub__isnull=False), name="membership_one_per_hub"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.company or self.hub}"

    @property
    def tenant(self):
        return self.company or self.hub


class ApiKey(StateMachine, AbstractAPIKey):
    """An integrator's key: it acts with exactly its membership's scope, one company or one hub.

    Only a hash is stored; the key itself is shown once, when it is issued.
    """

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="api_keys")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = APIKeyManager.from_queryset(TenantQuerySet)()
    tenant_hub = "membership__hub"
    tenant_company = "membership__company"

    state_field = "revoked"
    audit_name = "api_key"
    TRANSITIONS = {False: {True}}
    STATE_NAMES = {True: "revoked", False: "active"}

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class AuditEvent(models.Model):
    """One state change: who did what to which row, when, and why. Never updated or deleted.

    Filed under the row's company, every hub it concerns (both hubs of an order) and the order it
    belongs to (`order_ref`, its public id), so that an order's timeline gathers every app's events.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept when the user is gone.")
    hubs = models.ManyToManyField(Hub, related_name="+", blank=True)
    company = models.ForeignKey(Company, null=True, on_delete=models.PROTECT, related_name="+")
    order_ref = models.CharField(max_length=16, blank=True, db_index=True, help_text="The order it concerns.")
    verb = models.CharField(max_length=64)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = TenantQuerySet.as_manager()
    tenant_hub = "hubs"
    tenant_company = "company"

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb}"

    @property
    def sentence(self):
        return event_sentence(self)


class HSCode(models.Model):
    """A row of the Harmonized System 2022: chapter (2 digits), heading (4) or subheading (6)."""

    code = models.CharField(max_length=6, primary_key=True)
    description = models.TextField()
    parent = models.ForeignKey("self", null=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField()
    section = models.CharField(max_length=5)

    class Meta:
        ordering = ["code"]
        verbose_name = "HS code"

    def __str__(self):
        return f"{self.code} {self.description}"


# The `Rules` of published rule sets (`RuleSet.as_rules`), which never change, by row and time of publication.
PUBLISHED_RULES = Memo(size=512)


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    DISCARDED = "discarded", "Discarded draft"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn before it took effect"
    SUPERSEDED = "superseded", "Superseded before it took effect"


class RuleSet(StateMachine, models.Model):
    """One version of a hub's duty and tax rules. A draft is edited; a published version never changes.

    The version in force on a date is the published one with the latest `effective_from` on or before it.
    Until that date comes, a supervisor may withdraw a published version, or supersede it by publishing
    a corrected one for the same date; withdrawn and superseded versions are never in force.
    """

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="rule_sets")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT)
    effective_from = models.DateField(null=True, blank=True, help_text="Set when published.")
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    import_rules = models.CharField(max_length=20, choices=tariff.ImportRules.choices)
    notes = models.TextField(blank=True, help_text="Sources, and which figures are UNVERIFIED.")
    cbec_order_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cbec_annual_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cbec_tax_factor = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, help_text="Share of statutory VAT and CT, e.g. 0.7."
    )
    de_minimis_threshold = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    de_minimis_includes_freight = models.BooleanField(default=True)
    lvg_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    lvg_threshold = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    market_procurement_cap = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Most value one declaration may hold."
    )
    market_procurement_cap_currency = models.CharField(max_length=3, choices=currency_choices, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_hub = "hub"
    tenant_company = None

    audit_name = "rule_set"
    TRANSITIONS = {
        RuleSetStatus.DRAFT: {RuleSetStatus.PUBLISHED, RuleSetStatus.DISCARDED},
        RuleSetStatus.PUBLISHED: {RuleSetStatus.WITHDRAWN, RuleSetStatus.SUPERSEDED},
    }

    class Meta:
        ordering = ["hub__code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["hub", "version"], name="rule_set_version_unique"),
            models.UniqueConstraint(
                fields=["hub", "effective_from"],
                condition=Q(status="published"),
                name="rule_set_one_published_per_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "discarded"]) | Q(effective_from__isnull=False),
                name="rule_set_published_has_effective_date",
            ),
        ]

    def __str__(self):
        return f"{self.hub.code} rules v{self.version} ({self.get_status_display()})"

    @property
    def is_published(self):
        return self.status == RuleSetStatus.PUBLISHED

    @property
    def is_draft(self):
        return self.status == RuleSetStatus.DRAFT

    def save(self, *args, **kwargs):
        """Only a draft changes; any other version changes only its status, through `transition`."""
        state_only = set(kwargs.get("update_fields") or ()) == {self.state_field}
        frozen = RuleSet.objects.filter(pk=self.pk).exclude(status=RuleSetStatus.DRAFT)
        if self.pk and not state_only and frozen.exists():
            raise ValidationError("A published rule set never changes: copy it to a new draft.")
        super().save(*args, **kwargs)

    @property
    def parameters(self):
        """The figures of its rule family, by name."""
        return {name: getattr(self, name) for name in tariff.RULE_SET_PARAMETERS}

    def parameter_errors(self):
        """What is wrong with its parameters under its import rules (`hubs.tariff.RULE_FAMILIES`)."""
        return tariff.parameter_errors(self.import_rules, self.parameters, currency=self.hub.currency)

    def as_rules(self):
        """The calculator's view of this version. A published version never changes: its `Rules` are made once
        per process and kept by row and time of publication (`PUBLISHED_RULES`); a draft's are made each time
        (load its rates by prefetch)."""
        key = self._rules_key
        return self._make_rules() if key is None else PUBLISHED_RULES.get_or_make(key, self._make_rules)

    @property
    def _rules_key(self):
        if self.is_draft or self.published_at is None:
            return None
        return (self.pk, self.published_at, self.hub.code, self.hub.currency)

    @property
    def has_rules_made(self):
        """Whether `as_rules()` comes from the memo, without loading the rates."""
        key = self._rules_key
        return key is not None and key in PUBLISHED_RULES

    def _make_rules(self):
        return tariff.Rules(
            hub=self.hub.code,
            version=self.version,
            currency=self.hub.currency,
            import_rules=self.import_rules,
            rates=tuple(rate.as_rate_rule() for rate in self.rates.all()),
            cbec_order_limit=self.cbec_order_limit,
            cbec_annual_limit=self.cbec_annual_limit,
            cbec_tax_factor=self.cbec_tax_factor,
            de_minimis_threshold=self.de_minimis_threshold,
            de_minimis_includes_freight=self.de_minimis_includes_freight,
            lvg_rate=self.lvg_rate,
            lvg_threshold=self.lvg_threshold,
            market_procurement_cap=self.market_procurement_cap,
            market_procurement_cap_currency=self.market_procurement_cap_currency,
        )


def validate_unit_thresholds(value):
    """Prices per unit of measure from which the consumption tax applies: {"g": "10", "piece": "15"}."""
    problem = tariff.value_problem(tariff.UNIT_PRICES, value)
    if problem:
        raise ValidationError(f"Give {problem}.", code="invalid_unit_prices")


def validate_rate(value):
    if tariff.value_problem(tariff.RATE, value):
        raise ValidationError("A rate is a fraction from 0 up to 1, such as 0.13 for 13%.", code="invalid_rate")


class RateRow(models.Model):
    """Rates for the HS codes starting with `hs_prefix` in one rule set; the longest prefix wins, "" is the default."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rates")
    hs_prefix = models.CharField(max_length=10, blank=True, validators=[RegexValidator(r"^\d*$", "Digits only.")])
    duty_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0, validators=[validate_rate])
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=0, validators=[validate_rate], help_text="Import VAT or sales tax."
    )
    consumption_tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0, validators=[validate_rate])
    consumption_tax_min_unit_price = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_unit_thresholds],
        help_text='Prices per unit from which the consumption tax applies: {"g": "10"}.',
    )
    cbec_positive_list = models.BooleanField(default=True)
    export_refund_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0, validators=[validate_rate])
    admissibility = models.CharField(
        max_length=20,
        choices=[(a.value, a.label) for a in tariff.Admissibility if a != tariff.Admissibility.NOT_ON_POSITIVE_LIST],
        default=tariff.Admissibility.ALLOWED,
    )
    de_minimis_excluded = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True, help_text="What the row covers; UNVERIFIED where it is.")

    class Meta:
        ordering = ["hs_prefix"]
        constraints = [models.UniqueConstraint(fields=["rule_set", "hs_prefix"], name="rate_row_prefix_unique")]

    def __str__(self):
        return f"{self.hs_prefix or 'default'} in {self.rule_set}"

    def save(self, *args, **kwargs):
        if RuleSet.objects.filter(pk=self.rule_set_id).exclude(status=RuleSetStatus.DRAFT).exists():
            raise ValidationError("The rates of a published rule set never change: copy it to a new draft.")
        super().save(*args, **kwargs)

    def parameter_errors(self, currency):
        """What is wrong with its figures (`hubs.tariff.RATE_PARAMETERS`), each error's `attr` naming the row."""
        values = {parameter.name: getattr(self, parameter.name) for parameter in tariff.RATE_PARAMETERS}
        return tariff.rate_row_errors(values, currency=currency, path=f"rates.{self.hs_prefix or 'default'}.")

    def as_rate_rule(self):
        return tariff.RateRule(
            hs_prefix=self.hs_prefix,
            duty_rate=self.duty_rate,
            vat_rate=self.vat_rate,
            consumption_tax_rate=self.consumption_tax_rate,
            consumption_tax_min_unit_price=self.consumption_tax_min_unit_price,
            cbec_positive_list=self.cbec_positive_list,
            export_refund_rate=self.export_refund_rate,
            admissibility=self.admissibility,
            de_minimis_excluded=self.de_minimis_excluded,
            note=self.note,
        )


class QuotaEntry(models.Model):
    """A movement of a consumer's annual CBEC quota at a hub: a use at import release, a restore on a return."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    consumer_hash = models.CharField(max_length=64, db_index=True)
    year = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Positive: a use; negative: a restore.")
    reference = models.CharField(max_length=64, help_text="The order this movement belongs to.")
    at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_hub = "hub"
    tenant_company = None

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["hub", "consumer_hash", "year"])]


class QuotaYear(models.Model):
    """A consumer's CBEC year at a hub: the row that order placement locks, so that two orders for one
    consumer serialise and cannot together pass the annual limit."""

    hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="+")
    consumer_hash = models.CharField(max_length=64)
    year = models.PositiveSmallIntegerField(help_text="The hub's local year.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hub", "consumer_hash", "year"], name="quota_year_unique"),
        ]


class Claim(models.Model):
    """A piece of work claimed once under (`scope`, `key`): an API request sent with an `Idempotency-Key`
    (with its first answer, purged when it expires), or a task's outbound effect (kept for good)."""

    scope = models.CharField(max_length=200, help_text="What is claimed: `api:<sender>`, `payout`, ...")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Hash of the request, where there is one.")
    status_code = models.PositiveSmallIntegerField(null=True, help_text="Empty while the first request runs.")
    result = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="Empty: kept for good.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="claim_unique")]

    def __str__(self):
        return f"{self.scope} {self.key}"


class FxSource(models.TextChoices):
    ECB = "ecb", "ECB"
    MANUAL = "manual", "Entered by a hub"


def validate_currency_code(value):
    if not is_currency_code(value):
        raise ValidationError(f"“{value}” is not an ISO 4217 currency code such as CNY.", code="unknown_currency")


# Bumped by every rate stored: the rates a process keeps (`hubs.fx`) are looked up again.
FX_RATES = Generation("fx-rates")


class FxRateQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        FX_RATES.bump()
        return created


class FxRate(models.Model):
    """A reference rate snapshot: 1 `base` = `rate` `quote` on `rate_date`. Stored rows never change.

    Reference data every app reads. ECB rates are quoted against EUR; a hub supervisor enters the
    rates the ECB does not publish (NGN), against EUR or a currency the ECB publishes.
    """

    source = models.CharField(max_length=10, choices=FxSource.choices)
    rate_date = models.DateField(help_text="The day the rate is for.")
    published_at = models.DateTimeField(default=timezone.now, help_text="When it was published or entered.")
    base = models.CharField(max_length=3, validators=[validate_currency_code])
    quote = models.CharField(max_length=3, validators=[validate_currency_code])
    rate = models.DecimalField(max_digits=24, decimal_places=10, help_text="Units of quote for one unit of base.")
    hub = models.ForeignKey(Hub, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = FxRateQuerySet.as_manager()

    class Meta:
        ordering = ["-rate_date", "base", "quote"]
        verbose_name = "FX reference rate"
        indexes = [models.Index(fields=["quote", "base", "rate_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gt=0), name="fx_rate_positive"),
            models.CheckConstraint(condition=~Q(base=F("quote")), name="fx_rate_two_currencies"),
            models.UniqueConstraint(
                fields=["source", "base", "quote", "rate_date"],
                condition=Q(source="ecb"),
                name="fx_rate_one_ecb_rate_per_day",
            ),
        ]

    def __str__(self):
        return f"{self.base}/{self.quote} {self.rate.normalize():f} ({self.get_source_display()} {self.rate_date})"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError("A reference rate never changes: enter a new one.")
        super().save(*args, **kwargs)
        FX_RATES.bump()


# --- partner webhooks (`hubs.partner_webhooks`) -----------------------------------------------------------

WEBHOOK_ENDPOINT_ADDED = verb("webhook_endpoint.added", "Webhook endpoint {url} added by {actor}")
WEBHOOK_ENDPOINT_SECRET_ROTATED = verb(
    "webhook_endpoint.secret_rotated",
    "Webhook endpoint's secret rotated by {actor}: the previous one signs too until {previous_secret_expires_at}",
)
WEBHOOK_ENDPOINT_SECRET_LEAKED = verb(
    "webhook_endpoint.secret_leaked",
    "Webhook endpoint's secret rotated by {actor} after a leak: the previous ones sign nothing from now on",
)
transition_verbs("webhook_endpoint", {"deactivated": "Webhook endpoint deactivated by {actor}"})
transition_verbs(
    "webhook_delivery",
    {
        "delivered": "Webhook {event_id} delivered to {url}",
        "failed": "Webhook {event_id} to {url} given up",
        # A move back from failed, or a delivery waiting out a back-off made due: sent again now, on request.
        "pending": "Webhook {event_id} to {url} sent again at the request of {actor}",
    },
)
WEBHOOK_DELIVERY_RETRIED = "webhook_delivery.pending"


class WebhookEndpoint(StateMachine, models.Model):
    """Where a company's partner (a marketplace, an ERP) is told of every state change of the company's orders:
    POSTed as JSON, signed with the endpoint's secret (`hubs.kernel.signatures`)."""

    public_id = PublicIdField(prefix="WHE")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=500, help_text="An http(s) address that answers 2xx once it has the event.")
    description = models.CharField(max_length=100, blank=True)
    secret = models.CharField(max_length=100, editable=False, help_text="Signs every event; drawn by the platform.")
    previous_secrets = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Secrets rotated away, each signing events too until it expires: [{secret, expires_at}].",
    )
    event_types = models.JSONField(default=list, blank=True, help_text="The event types sent; empty: all of them.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = TenantQuerySet.as_manager()
    tenant_company = "company"
    tenant_hub = "company__home_hub"

    state_field = "active"
    audit_name = "webhook_endpoint"
    TRANSITIONS = {True: {False}}
    STATE_NAMES = {True: "active", False: "deactivated"}

    class Meta:
        ordering = ["-active", "-created_at", "-id"]
        indexes = [models.Index(fields=["company", "active"], name="webhook_endpoint_company")]

    def __str__(self):
        return f"{self.public_id} {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types

    def previous_secrets_in_force(self, now=None) -> list[dict]:
        """The secrets rotated away whose grace period has not ended, newest first."""
        now = now or timezone.now()
        return [old for old in self.previous_secrets if datetime.fromisoformat(old["expires_at"]) > now]

    def signing_secrets(self, now=None) -> list[str]:
        """What an event is signed with: the secret, then each previous one still in force (one `v1` each)."""
        return [self.secret, *(old["secret"] for old in self.previous_secrets_in_force(now))]

    @property
    def previous_secret_expires_at(self):
        """Until when events are signed with a previous secret too; None when they are signed with this one only."""
        return max(
            (datetime.fromisoformat(old["expires_at"]) for old in self.previous_secrets_in_force()), default=None
        )


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(StateMachine, models.Model):
    """One event for one endpoint: written in the transaction of the event (an outbox, so that nothing is lost
    when the broker is down) and sent by a worker until the endpoint answers 2xx or the attempts run out.

    Its `public_id` is the event's id, the same on every attempt: partners drop an id they have seen. A worker
    sending it holds it for a while (`sending_since`), so that a second run of the task sends nothing.
    """

    public_id = PublicIdField(prefix="EVT")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="None: a test."
    )
    event_type = models.CharField(max_length=64)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sending_since = models.DateTimeField(null=True, blank=True, help_text="Set while a worker sends it.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_company = "endpoint__company"
    tenant_hub = "endpoint__company__home_hub"

    audit_name = "webhook_delivery"
    TRANSITIONS = {
        WebhookDeliveryStatus.PENDING: {WebhookDeliveryStatus.DELIVERED, WebhookDeliveryStatus.FAILED},
        WebhookDeliveryStatus.FAILED: {WebhookDeliveryStatus.PENDING},  # sent again on request (`retry`)
    }

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_one_per_event"),
        ]

    def __str__(self):
        return self.public_id

    @property
    def has_failed(self) -> bool:
        """Given up, or waiting out a back-off after a failed attempt: what may be sent again on request."""
        pending_again = self.status == WebhookDeliveryStatus.PENDING and self.attempt_count > 0
        return self.status == WebhookDeliveryStatus.FAILED or pending_again


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, and what came back (a status code, or why none did)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no outcome was recorded.")

    objects = TenantQuerySet.as_manager()
    tenant_company = "delivery__endpoint__company"
    tenant_hub = "delivery__endpoint__company__home_hub"

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique")]

    def __str__(self):
        return f"{self.delivery_id} #{self.number}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def outcome(self) -> str:
        if self.status_code is not None:
            return f"HTTP {self.status_code}"
        return self.error or "No outcome recorded (its worker stopped): sent again"
