from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework_api_key.crypto import concatenate

from hubs.fx import require_currency
from hubs.kernel.audit import audit_event_record
from hubs.kernel.errors import DomainError
from hubs.kernel.transitions import transition
from hubs.models import (
    API_KEY_ISSUED,
    FX_RATE_ENTERED,
    RULE_SET_DRAFTED,
    RULE_SET_EDITED,
    ApiKey,
    FxRate,
    FxSource,
    Hub,
    RateRow,
    Role,
    RuleSet,
    RuleSetStatus,
)
from hubs.rule_data import RULE_SETS
from hubs.scoping import require_role
from hubs.selectors import hub_today, integrator_memberships_managed_by

ONLY_MANAGERS = "Only the company's seller admin, the hub's supervisor or the integrator may {verb} its keys."


def api_key_issue(*, actor, membership, name, expires_at=None, key=None):
    """Issue an API key for an integrator membership. Returns the row and the key, shown this once.

    `key` is given only for the public demo key of `seed_demo`; otherwise a random one is drawn.
    """
    if not integrator_memberships_managed_by(actor).filter(pk=membership.pk).exists():
        raise PermissionDenied(ONLY_MANAGERS.format(verb="issue"))
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name that says where it is used.", code="required", attr="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("A key's expiry must lie in the future.", code="expiry_in_past", attr="expires_at")
    generator = ApiKey.objects.key_generator
    if key is None:
        key, prefix, hashed_key = generator.generate()
    else:
        prefix, hashed_key = key.partition(".")[0], generator.hash(key)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            id=concatenate(prefix, hashed_key),
            prefix=prefix,
            hashed_key=hashed_key,
            name=name[:50],
            expiry_date=expires_at,
            membership=membership,
            issued_by=actor.user,
        )
        audit_event_record(actor=actor, verb=API_KEY_ISSUED, target=api_key, data={"name": api_key.name})
    return api_key, key


def api_key_revoke(*, actor, api_key, reason=""):
    """Revoke a key for good: from now on it authenticates nothing."""
    if not integrator_memberships_managed_by(actor).filter(pk=api_key.membership_id).exists():
        raise PermissionDenied(ONLY_MANAGERS.format(verb="revoke"))
    return transition(api_key, True, actor=actor, reason=reason)


def api_key_mark_used(*, api_key_id, used_at):
    """Stamp when a key was last used; a late or repeated stamp never moves it back."""
    ApiKey.objects.filter(pk=api_key_id).exclude(last_used_at__gte=used_at).update(last_used_at=used_at)


def company_verify(*, actor, company, reason=""):
    """A supervisor of the company's home hub confirms its registration."""
    require_role(actor, company.home_hub, Role.HUB_SUPERVISOR)
    return transition(company, True, actor=actor, reason=reason)


def rule_set_copy_to_draft(*, actor, rule_set):
    """A new draft version of the hub's rules, starting from `rule_set` with all its rates."""
    require_role(actor, rule_set.hub, Role.HUB_SUPERVISOR)
    with transaction.atomic():
        Hub.objects.select_for_update().get(pk=rule_set.hub_id)  # one new version number at a time
        latest = RuleSet.objects.filter(hub=rule_set.hub).aggregate(latest=Max("version"))["latest"]
        draft = RuleSet.objects.get(pk=rule_set.pk)
        rates = list(draft.rates.all())
        draft.pk = None
        draft.version = latest + 1
        draft.status = RuleSetStatus.DRAFT
        draft.effective_from = None
        draft.published_at = None
        draft.save()
        for rate in rates:
            rate.pk = None
            rate.rule_set = draft
        RateRow.objects.bulk_create(rates)
        audit_event_record(actor=actor, verb=RULE_SET_DRAFTED, target=draft, data={"from_version": rule_set.version})
    return draft


def rule_set_publish(*, actor, rule_set, effective_from, historical=False):
    """Publish a draft, in force from `effective_from`; from then on it never changes.

    Officers publish from today on: a past date would rewrite what earlier quotes were told.
    `historical` is for loading past versions from the reference facts, as `seed_demo` does.
    """
    if actor is not None:
        require_role(actor, rule_set.hub, Role.HUB_SUPERVISOR)
    today = hub_today(rule_set.hub)
    if effective_from is None:
        raise DomainError("Give the date the rules take effect.", code="required", attr="effective_from")
    if effective_from < today and not historical:
        raise DomainError(
            f"Rules take effect today ({today}) or later, not {effective_from}.",
            code="effective_in_past",
            attr="effective_from",
        )
    with transaction.atomic():
        Hub.objects.select_for_update().get(pk=rule_set.hub_id)  # one publication per hub at a time
        rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        if rule_set.is_published:
            raise DomainError(f"{rule_set} is already published.", code="already_published")
        missing = rule_set.missing_parameters()
        if missing:
            raise DomainError(
                f"{rule_set.get_import_rules_display()} needs {', '.join(missing)}.",
                code="missing_parameters",
                attr=missing[0],
            )
        rates = list(rule_set.rates.all())
        if not any(rate.hs_prefix == "" for rate in rates):
            raise DomainError("A rule set needs a default rate row (empty HS prefix).", code="no_default_rate")
        for rate in rates:
            try:
                rate.full_clean(exclude=["rule_set"])
            except ValidationError as invalid:
                raise DomainError(
                    f"Rate row “{rate.hs_prefix or 'default'}”: {'; '.join(invalid.messages)}", code="invalid_rate"
                ) from invalid
        published = RuleSet.objects.filter(hub=rule_set.hub, status=RuleSetStatus.PUBLISHED)
        if published.filter(effective_from=effective_from).exists():
            raise DomainError(
                f"Another version of {rule_set.hub.code} already takes effect on {effective_from}.",
                code="effective_date_taken",
                attr="effective_from",
            )
        rule_set.effective_from = effective_from
        rule_set.published_at = timezone.now()
        rule_set.save(update_fields=["effective_from", "published_at"])
        return transition(rule_set, RuleSetStatus.PUBLISHED, actor=actor, data={"effective_from": effective_from})


def rule_sets_load_reference(*, hub):
    """Publish the reference rule-set versions of a demo hub (`hubs.rule_data`), unless it has rule sets."""
    if hub.rule_sets.exists() or hub.code not in RULE_SETS:
        return []
    published = []
    for version, (effective_from, import_rules, params, rates, notes) in enumerate(RULE_SETS[hub.code], start=1):
        with transaction.atomic():
            rule_set = RuleSet.objects.create(
                hub=hub, version=version, import_rules=import_rules, notes=notes, **params
            )
            RateRow.objects.bulk_create(
                RateRow(rule_set=rule_set, hs_prefix=prefix, note=note, **fields) for prefix, fields, note in rates
            )
            rule_set = rule_set_publish(actor=None, rule_set=rule_set, effective_from=effective_from, historical=True)
            published.append(rule_set)
    return published


def rule_set_draft_edit(*, actor, rule_set, changed):
    """Record an edit of a draft's parameters or rates by a supervisor of its hub.

    That only drafts change is the rows' own invariant (`RuleSet.save`, `RateRow.save`).
    """
    require_role(actor, rule_set.hub, Role.HUB_SUPERVISOR)
    audit_event_record(actor=actor, verb=RULE_SET_EDITED, target=rule_set, data={"changed": sorted(changed)})


def fx_rate_enter(*, actor, hub, base: str, quote: str, rate, rate_date) -> FxRate:
    """A supervisor enters a reference rate the ECB does not publish (1 `base` = `rate` `quote`), e.g. a
    CBN rate for NGN, against EUR or a currency the ECB publishes. The row never changes after."""
    require_role(actor, hub, Role.HUB_SUPERVISOR)
    base, quote = require_currency((base or "").upper(), "base"), require_currency((quote or "").upper(), "quote")
    if base == quote:
        raise DomainError("A rate joins two different currencies.", code="same_currency", attr="quote")
    if rate is None or rate <= 0:
        raise DomainError("A rate is above zero.", code="invalid_rate", attr="rate")
    if rate_date is None or rate_date > hub_today(hub):
        raise DomainError("Give the day the rate is for, today or earlier.", code="invalid_date", attr="rate_date")
    with transaction.atomic():
        fx_rate = FxRate.objects.create(
            source=FxSource.MANUAL,
            base=base,
            quote=quote,
            rate=rate,
            rate_date=rate_date,
            hub=hub,
            entered_by=actor.user,
        )
        audit_event_record(
            actor=actor,
            verb=FX_RATE_ENTERED,
            target=fx_rate,
            hubs=[hub],
            data={"base": base, "quote": quote, "rate": rate, "rate_date": rate_date},
        )
    return fx_rate
