from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from hubs.scoping import TenantQuerySet


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

    objects = TenantQuerySet.as_manager()
    tenant_hub = "id"
    tenant_company = None

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Company(models.Model):
    """An SME seller, registered at its home hub and paid out in its home currency."""

    legal_name = models.CharField(max_length=200)
    country = CountryField()
    home_hub = models.ForeignKey(Hub, on_delete=models.PROTECT, related_name="companies")
    registration_number = models.CharField(max_length=64)
    home_currency = models.CharField(max_length=3, choices=currency_choices)
    verified = models.BooleanField(default=False, help_text="Checked by a supervisor of the home hub.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantQuerySet.as_manager()
    tenant_hub = "home_hub"
    tenant_company = "id"

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


class ApiKey(AbstractAPIKey):
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

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"


class AuditEvent(models.Model):
    """One state change: who did what to which row, when, and why. Never edited."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept when the user is gone.")
    hub = models.ForeignKey(Hub, null=True, on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(Company, null=True, on_delete=models.PROTECT, related_name="+")
    verb = models.CharField(max_length=64)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_hub = "hub"
    tenant_company = "company"

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb}"


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
