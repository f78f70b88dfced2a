import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import router
from django.db.models import Q, prefetch_related_objects
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from hubs.kernel.audit import target_of
from hubs.kernel.cache import Generation, Snapshot
from hubs.kernel.errors import DomainError
from hubs.kernel.money import AmountSum
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
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from hubs.scoping import restrict, selector_for

# --- caches (`hubs.kernel.cache`) ------------------------------------------------------------------------
#
# What each request reads is kept in process, under a generation token of the shared cache that every save or
# delete of the rows it comes from bumps (the receivers below), at once and again on commit:
# - HUBS: every hub's row (`hub_get`, `hub_by_code`, and the hub of a rule set in force).
# - RULE_SETS: which versions are published, by hub (`rule_set_in_force`, `rules_in_force`); the `Rules` of a
#   published version never change and are kept by `RuleSet.as_rules` itself.
# - HS_CODES: the HS subheadings found so far (`hs_codes_validate`). Reference data loaded by a migration, that
#   does not change at run time; a save or delete of an HSCode row bumps it all the same.
# - API_KEYS: the verified keys `hubs.authentication` keeps for a few seconds in the shared cache; any change
#   of a key, user, membership, company or hub drops them all.

HUBS = Generation("hubs")
RULE_SETS = Generation("rule-sets")
HS_CODES = Generation("hs-codes")
API_KEYS = Generation("api-keys")


def _bumps(*generations):
    def changed(sender, **kwargs):
        for generation in generations:
            generation.bump()

    return changed


_HUB_CHANGED = _bumps(HUBS, RULE_SETS, API_KEYS)  # the rule sets' copy holds their hub's row
_RULE_SET_CHANGED = _bumps(RULE_SETS)
_HS_CODE_CHANGED = _bumps(HS_CODES)
_KEY_HOLDER_CHANGED = _bumps(API_KEYS)
for _model, _changed in [
    (Hub, _HUB_CHANGED),
    (RuleSet, _RULE_SET_CHANGED),
    (HSCode, _HS_CODE_CHANGED),
    (ApiKey, _KEY_HOLDER_CHANGED),
    (User, _KEY_HOLDER_CHANGED),
    (Membership, _KEY_HOLDER_CHANGED),
    (Company, _KEY_HOLDER_CHANGED),
]:
    receiver([post_save, post_delete], sender=_model, weak=False, dispatch_uid=f"cache:{_model.__name__}")(_changed)


def _attnames(model):
    return [field.attname for field in model._meta.concrete_fields]


def _row(model, values):
    """A fresh instance from a row kept in process: callers may change it, the kept row stays as it was."""
    return model.from_db(router.db_for_read(model), _attnames(model), values)


def _load_hubs():
    rows = list(Hub.objects.order_by().values_list(*_attnames(Hub)))
    code, active = _attnames(Hub).index("code"), _attnames(Hub).index("active")
    return {row[0]: row for row in rows}, {row[code]: row for row in rows if row[active]}


_hubs = Snapshot(HUBS, _load_hubs)


def hub_get(pk):
    """The hub `pk`, active or not, from the process's copy; raises Hub.DoesNotExist."""
    row = _hubs.get()[0].get(pk)
    if row is None:
        raise Hub.DoesNotExist(f"No hub {pk}.")
    return _row(Hub, row)


def hub_by_code(code):
    """The active hub of code `code` (HGH), from the process's copy; None when there is none."""
    row = _hubs.get()[1].get(code)
    return None if row is None else _row(Hub, row)


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


def api_keys_managed_by(actor):
    """The keys of the integrators this actor manages: those it may see on its API keys page and revoke."""
    return api_keys_for(actor).filter(membership__in=integrator_memberships_managed_by(actor))


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


def audit_events_about(actor, target):
    """The audit events about `target` that the actor may read, oldest first: the row's history."""
    return audit_events_for(actor).filter(**target_of(target)).order_by("at", "id")


@selector_for(WebhookEndpoint)
def webhook_endpoints_for(actor):
    return restrict(WebhookEndpoint.objects.select_related("company__home_hub"), actor)


@selector_for(WebhookDelivery)
def webhook_deliveries_for(actor):
    """Deliveries with their endpoint and their attempts, newest first."""
    rows = WebhookDelivery.objects.select_related("endpoint__company").prefetch_related("attempts")
    return restrict(rows, actor)


@selector_for(WebhookAttempt)
def webhook_attempts_for(actor):
    return restrict(WebhookAttempt.objects.select_related("delivery__endpoint"), actor)


def webhook_endpoints_managed_by(actor):
    """The endpoints this actor may add to, deactivate and test from the portal: those of the companies where it
    is a seller admin."""
    if actor.api_key is not None:
        return WebhookEndpoint.objects.none()
    return webhook_endpoints_for(actor).filter(company__in=[company.pk for company in companies_administered_by(actor)])


def webhook_deliveries_managed_by(actor):
    """The deliveries this actor may send again from the portal: those to the endpoints it manages."""
    return webhook_deliveries_for(actor).filter(endpoint__in=webhook_endpoints_managed_by(actor))


HS_CODE_SHAPE = re.compile(r"^(\d{6}|\d{8,10})$")


def hs_code_normalize(raw):
    """`3304.99.00` and `3304 99 00` are written as `33049900`."""
    return re.sub(r"[\s.]", "", raw or "")


def _load_hs_found():
    return {}


_hs_found = Snapshot(HS_CODES, _load_hs_found)


def _hs_subheadings(codes):
    """The HS subheadings among `codes`, by code: those found before from the process's copy, the others (and
    the unknown ones, never kept) from the database."""
    found = _hs_found.get()
    missing = codes - found.keys()
    if missing:
        rows = HSCode.objects.filter(level=6, code__in=missing).order_by().values_list(*_attnames(HSCode))
        fresh = {row[0]: row for row in rows}
        if not HS_CODES.changing():
            found.update(fresh)
    else:
        fresh = {}
    return {code: _row(HSCode, found.get(code) or fresh[code]) for code in codes if code in found or code in fresh}


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
    subheadings = _hs_subheadings({code[:6] for code in codes})
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


def _load_published_rule_sets():
    """The published versions and their hub's row, by hub id, each hub's in date order."""
    rule_set_fields, hub_fields = _attnames(RuleSet), _attnames(Hub)
    rows = RuleSet.objects.filter(status=RuleSetStatus.PUBLISHED).order_by("hub_id", "effective_from")
    hub_index, date_index = rule_set_fields.index("hub_id"), rule_set_fields.index("effective_from")
    by_hub = {}
    for row in rows.values_list(*rule_set_fields, *(f"hub__{name}" for name in hub_fields)):
        rule_set, hub = row[: len(rule_set_fields)], row[len(rule_set_fields) :]
        by_hub.setdefault(row[hub_index], {"hub": hub, "versions": []})["versions"].append(
            (rule_set[date_index], rule_set)
        )
    return by_hub


_published_rule_sets = Snapshot(RULE_SETS, _load_published_rule_sets)


def _in_force(versions, on_date):
    row = None
    for effective_from, version in versions:  # in date order: the latest on or before the date wins
        if effective_from > on_date:
            break
        row = version
    return row


def rule_set_in_force(hub, on_date):
    """The published rule set of `hub` in force on `on_date`; None before the first one.

    Which version that is comes from the process's copy of the published versions (`RULE_SETS`), and its
    `as_rules()` from the process's memo of published rules: no query once both are warm. Its `hub` is `hub`.
    """
    hub = hub if isinstance(hub, Hub) else hub_get(hub)
    published = _published_rule_sets.get().get(hub.pk)
    row = _in_force(published["versions"], on_date) if published else None
    if row is None:
        return None
    rule_set = _row(RuleSet, row)
    rule_set.hub = hub
    return rule_set


def hub_today(hub, now=None):
    """The date at the hub, in its own time zone: rules take effect on hub dates."""
    return timezone.localdate(now or timezone.now(), timezone=ZoneInfo(hub.timezone))


def rules_in_force(now=None):
    """Every active hub's rule set in force at `now` (on each hub's own date), as `Rules`, by hub code."""
    now = now or timezone.now()
    in_force = []
    for published in _published_rule_sets.get().values():
        hub = _row(Hub, published["hub"])
        row = _in_force(published["versions"], hub_today(hub, now)) if hub.active else None
        if row is not None:
            rule_set = _row(RuleSet, row)
            rule_set.hub = hub
            in_force.append(rule_set)
    prefetch_related_objects([rule_set for rule_set in in_force if not rule_set.has_rules_made], "rates")
    return {rule_set.hub.code: rule_set.as_rules() for rule_set in in_force}


@selector_for(RuleSet)
def rule_sets_for(actor):
    return restrict(RuleSet.objects.select_related("hub"), actor)


@selector_for(QuotaEntry)
def quota_entries_for(actor):
    return restrict(QuotaEntry.objects.select_related("hub"), actor)


def consumer_year_usage(hub, consumer_hash, year):
    """How much of the annual CBEC limit a consumer has used at `hub` in `year`."""
    total = QuotaEntry.objects.filter(hub=hub, consumer_hash=consumer_hash, year=year).aggregate(
        total=AmountSum("amount")
    )
    return total["total"] or Decimal(0)
