import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.utils import timezone

from hubs.kernel.errors import DomainError
from hubs.models import (
    ApiKey,
    AuditEvent,
    Company,
    HSCode,
    Hub,
    Membership,
    QuotaEntry,
    Role,
    RuleSet,
    RuleSetStatus,
)
from hubs.scoping import restrict, selector_for


def hubs_directory():
    """The active hubs: a public directory every signed-in actor may read."""
    return Hub.objects.filter(active=True)


@selector_for(Hub)
def hubs_for(actor):
    return restrict(Hub.objects.all(), actor)


@selector_for(Company)
def companies_for(actor):
    return restrict(Company.objects.select_related("home_hub"), actor)


@selector_for(Membership)
def memberships_for(actor):
    return restrict(Membership.objects.select_related("user", "company", "hub"), actor)


@selector_for(ApiKey)
def api_keys_for(actor):
    return restrict(ApiKey.objects.select_related("membership__user", "membership__company", "membership__hub"), actor)


def integrator_memberships_managed_by(actor):
    """The integrator memberships whose API keys this actor may issue and revoke."""
    if actor.api_key is not None:
        return Membership.objects.none()
    if actor.is_superuser:
        return Membership.objects.filter(role=Role.INTEGRATOR).select_related("user", "company", "hub")
    admin_of = [m.company_id for m in actor.memberships if m.role == Role.SELLER_ADMIN]
    supervisor_of = [m.hub_id for m in actor.memberships if m.role == Role.HUB_SUPERVISOR]
    return Membership.objects.filter(
        Q(company__in=admin_of) | Q(hub__in=supervisor_of) | Q(user=actor.user),
        role=Role.INTEGRATOR,
    ).select_related("user", "company", "hub")


def colleagues_for(actor):
    """The members of the companies the actor belongs to, company by company (its team in the portal)."""
    return (
        memberships_for(actor)
        .filter(company__in=actor.company_ids)
        .order_by("company__legal_name", "role", "user__username")
    )


def companies_administered_by(actor):
    """The companies where the actor is a seller admin: it invites colleagues and creates integrators there."""
    return [m.company for m in actor.memberships if m.role == Role.SELLER_ADMIN and m.company_id]


@selector_for(AuditEvent)
def audit_events_for(actor):
    return restrict(AuditEvent.objects.select_related("company", "target_type"), actor)


HS_CODE_SHAPE = re.compile(r"^(\d{6}|\d{8,10})$")


def hs_code_normalize(raw):
    """`3304.99.00` and `3304 99 00` are written as `33049900`."""
    return re.sub(r"[\s.]", "", raw or "")


def hs_codes_validate(raws, *, attrs):
    """Normalized goods codes with the HS 2022 subheadings they fall under, in one query.

    A code is a 6-digit subheading that exists, or a national 8–10 digit code that extends one.
    `attrs` names the input each code came from, to say which one is at fault.
    """
    codes = [hs_code_normalize(raw) for raw in raws]
    for raw, code, attr in zip(raws, codes, attrs, strict=True):
        if not HS_CODE_SHAPE.match(code):
            raise DomainError(
                f"“{raw}” is not an HS code: give a 6-digit subheading such as 330499, "
                "or a national code of 8 to 10 digits that extends one.",
                code="hs_code_malformed",
                attr=attr,
            )
    subheadings = HSCode.objects.filter(level=6).in_bulk({code[:6] for code in codes})
    for code, attr in zip(codes, attrs, strict=True):
        if code[:6] not in subheadings:
            raise DomainError(
                f"{code[:6]} is not a subheading of the Harmonized System 2022.", code="hs_code_unknown", attr=attr
            )
    return [(code, subheadings[code[:6]]) for code in codes]


def hs_code_validate(raw, *, attr="hs_code"):
    """A goods code, normalized, and the HS 2022 subheading it falls under (see `hs_codes_validate`)."""
    return hs_codes_validate([raw], attrs=[attr])[0]


def hs_codes_search(query):
    """HS rows whose code starts with the digits of `query`, or whose description holds each of its words."""
    query = (query or "").strip()
    rows = HSCode.objects.all()
    if not query:
        return rows
    digits = hs_code_normalize(query)
    if digits.isdigit():
        return rows.filter(code__startswith=digits[:6])
    for word in query.split():
        rows = rows.filter(description__icontains=word)
    return rows


def rule_set_in_force(hub, on_date):
    """The published rule set of `hub` in force on `on_date`, its rates loaded; None before the first one."""
    return (
        RuleSet.objects.filter(hub=hub, status=RuleSetStatus.PUBLISHED, effective_from__lte=on_date)
        .select_related("hub")
        .prefetch_related("rates")
        .order_by("-effective_from")
        .first()
    )


def hub_today(hub, now=None):
    """The date at the hub, in its own time zone: rules take effect on hub dates."""
    return timezone.localdate(now or timezone.now(), timezone=ZoneInfo(hub.timezone))


def rules_in_force(now=None):
    """Every active hub's rule set in force at `now` (on each hub's own date), as `Rules`, by hub code."""
    now = now or timezone.now()
    latest_date_anywhere = timezone.localdate(now, timezone=ZoneInfo("Etc/GMT-14"))
    rule_sets = (
        RuleSet.objects.filter(
            hub__active=True, status=RuleSetStatus.PUBLISHED, effective_from__lte=latest_date_anywhere
        )
        .select_related("hub")
        .prefetch_related("rates")
        .order_by("hub_id", "effective_from")
    )
    in_force = {}
    for rule_set in rule_sets:  # in date order: the latest in force at each hub wins
        if rule_set.effective_from <= hub_today(rule_set.hub, now):
            in_force[rule_set.hub.code] = rule_set.as_rules()
    return in_force


@selector_for(RuleSet)
def rule_sets_for(actor):
    return restrict(RuleSet.objects.select_related("hub"), actor)


@selector_for(QuotaEntry)
def quota_entries_for(actor):
    return restrict(QuotaEntry.objects.select_related("hub"), actor)


def consumer_year_usage(hub, consumer_hash, year):
    """How much of the annual CBEC limit a consumer has used at `hub` in `year`."""
    total = QuotaEntry.objects.filter(hub=hub, consumer_hash=consumer_hash, year=year).aggregate(total=Sum("amount"))
    return total["total"] or Decimal(0)
