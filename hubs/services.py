import hashlib

from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework_api_key.crypto import concatenate

from hubs.fx import require_currency
from hubs.kernel.audit import audit_event_record, verb
from hubs.kernel.errors import DomainError
from hubs.kernel.transitions import transition
from hubs.models import (
    API_KEY_ISSUED,
    FX_RATE_ENTERED,
    RULE_SET_DRAFTED,
    RULE_SET_EDITED,
    ApiKey,
    Company,
    FxRate,
    FxSource,
    Hub,
    Membership,
    RateRow,
    Role,
    RuleSet,
    RuleSetStatus,
    User,
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


def api_key_cache_key(api_key_id):
    """Where `hubs.authentication` keeps a verified key in the shared cache: a hash of its id, itself the prefix
    and the hash of the whole key."""
    return "api-key:" + hashlib.sha256(api_key_id.encode()).hexdigest()


def api_key_forget(api_key_id):
    """Drop a verified key from the shared cache, at once and again once the transaction commits."""
    cache.delete(api_key_cache_key(api_key_id))
    transaction.on_commit(lambda: cache.delete(api_key_cache_key(api_key_id)))


def api_key_revoke(*, actor, api_key, reason=""):
    """Revoke a key for good: from now on it authenticates nothing, in every process."""
    if not integrator_memberships_managed_by(actor).filter(pk=api_key.membership_id).exists():
        raise PermissionDenied(ONLY_MANAGERS.format(verb="revoke"))
    with transaction.atomic():
        api_key = transition(api_key, True, actor=actor, reason=reason)
        api_key_forget(api_key.pk)
    return api_key


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
        Hub.objects.select_for_update(no_key=True).get(pk=rule_set.hub_id)  # one new version number at a time
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


def rule_set_validate(rule_set, rates=None):
    """Refuse a rule set its family cannot apply: the first fault of its parameters (`hubs.tariff.RULE_FAMILIES`)
    or of its rate rows (`hubs.tariff.RATE_PARAMETERS`), as a DomainError whose `attr` names the figure at fault."""
    errors = rule_set.parameter_errors()
    if errors:
        raise errors[0]
    rates = list(rule_set.rates.all()) if rates is None else rates
    if not any(rate.hs_prefix == "" for rate in rates):
        raise DomainError("A rule set needs a default rate row (empty HS prefix).", code="no_default_rate")
    for rate in rates:
        row = f"Rate row “{rate.hs_prefix or 'default'}”"
        errors = rate.parameter_errors(rule_set.hub.currency)
        if errors:
            raise DomainError(f"{row}: {errors[0].detail}", code=errors[0].code, attr=errors[0].attr)
        try:
            rate.full_clean(exclude=["rule_set"])
        except ValidationError as invalid:
            field = next(iter(invalid.message_dict), None) if hasattr(invalid, "error_dict") else None
            raise DomainError(
                f"{row}: {'; '.join(invalid.messages)}",
                code="invalid_rate",
                attr=f"rates.{rate.hs_prefix or 'default'}.{field}" if field else None,
            ) from invalid


def _require_not_yet_effective(rule_set, today, verb):
    if rule_set.effective_from <= today:
        raise DomainError(
            f"{rule_set} has been in force since {rule_set.effective_from}: only a version whose date has not "
            f"come yet may be {verb}. Publish a corrected version from a later date instead.",
            code="already_in_force",
            attr="effective_from",
        )


def rule_set_publish(*, actor, rule_set, effective_from, historical=False):
    """Publish a draft, in force from `effective_from`; from then on it never changes.

    Officers publish from today on: a past date would rewrite what earlier quotes were told.
    A version already published for the same date that has not taken effect yet is superseded by this
    one (a supervisor's correction); one already in force stays. `historical` is for loading past
    versions from the reference facts, as `seed_demo` does.
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
        Hub.objects.select_for_update(no_key=True).get(pk=rule_set.hub_id)  # one publication per hub at a time
        rule_set = RuleSet.objects.select_for_update(no_key=True).get(pk=rule_set.pk)
        if not rule_set.is_draft:
            raise DomainError(
                f"{rule_set} is {rule_set.get_status_display().lower()}: only a draft is published.",
                code="already_published" if rule_set.is_published else "not_a_draft",
            )
        rule_set_validate(rule_set)
        taken = (
            RuleSet.objects.select_for_update(no_key=True)
            .filter(hub=rule_set.hub, status=RuleSetStatus.PUBLISHED, effective_from=effective_from)
            .first()
        )
        if taken is not None and (historical or taken.effective_from <= today):
            raise DomainError(
                f"{taken} already takes effect on {effective_from}: publish a correction from a later date.",
                code="effective_date_taken",
                attr="effective_from",
            )
        data = {"effective_from": effective_from}
        if taken is not None:
            transition(
                taken,
                RuleSetStatus.SUPERSEDED,
                actor=actor,
                data={"effective_from": effective_from, "by_version": rule_set.version},
            )
            data["supersedes_version"] = taken.version
        rule_set.effective_from = effective_from
        rule_set.published_at = timezone.now()
        rule_set.save(update_fields=["effective_from", "published_at"])
        return transition(rule_set, RuleSetStatus.PUBLISHED, actor=actor, data=data)


def rule_set_withdraw(*, actor, rule_set, reason=""):
    """A supervisor takes back a published version before its date comes: it is never in force.

    The version in force before it stays in force; a quote never used the withdrawn one.
    """
    require_role(actor, rule_set.hub, Role.HUB_SUPERVISOR)
    with transaction.atomic():
        Hub.objects.select_for_update(no_key=True).get(pk=rule_set.hub_id)  # not while a publication of the hub runs
        rule_set = RuleSet.objects.select_related("hub").get(pk=rule_set.pk)
        if rule_set.is_published:
            _require_not_yet_effective(rule_set, hub_today(rule_set.hub), "withdrawn")
        return transition(
            rule_set,
            RuleSetStatus.WITHDRAWN,
            actor=actor,
            reason=reason,
            data={"effective_from": rule_set.effective_from},
        )


def rule_set_discard(*, actor, rule_set, reason=""):
    """A supervisor drops a draft that will not be published; its version number stays taken."""
    require_role(actor, rule_set.hub, Role.HUB_SUPERVISOR)
    return transition(rule_set, RuleSetStatus.DISCARDED, actor=actor, reason=reason)


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


# --- the portal: a seller admin's colleagues and integrators ---------------------------------------------

MEMBER_INVITED = verb("membership.invited", "{username} invited as {role} by {actor}")
INTEGRATOR_CREATED = verb("membership.integrator_created", "Integrator {username} created by {actor}")
INVITABLE_ROLES = (Role.SELLER_ADMIN, Role.SELLER_STAFF)


def _user_create(username: str, email: str = "") -> User:
    """A new user without a password (it sets one through its link, or never logs in: an integrator)."""
    username, email = (username or "").strip(), (email or "").strip()
    try:
        if not username or len(username) > 150:
            raise ValidationError("blank or long")
        UnicodeUsernameValidator()(username)
    except ValidationError as invalid:
        raise DomainError(
            "Give a username of up to 150 letters, digits and @ . + - _ characters, such as “li.wei”.",
            code="invalid_username",
            attr="username",
        ) from invalid
    taken = DomainError(f"The username “{username}” is taken: choose another.", code="username_taken", attr="username")
    if User.objects.filter(username__iexact=username).exists():
        raise taken
    if email:
        try:
            validate_email(email)
        except ValidationError as invalid:
            raise DomainError(f"“{email}” is not an email address.", code="invalid_email", attr="email") from invalid
    user = User(username=username, email=email)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as twice:  # the same name, chosen by someone else at the same moment
        raise taken from twice
    return user


def password_set_path(user) -> str:
    """The path where `user` sets a password: Django's password-reset token, void once a password is set."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse(
        "password_reset_confirm", kwargs={"uidb64": uidb64, "token": default_token_generator.make_token(user)}
    )


def member_invite(
    *, actor, company: Company, username: str, email: str = "", role: str = Role.SELLER_STAFF, site: str = ""
) -> tuple[Membership, str]:
    """A seller admin adds a colleague to its company: a new user, without a password, with a membership there.

    Returns the membership and the link (`site` + path) where the colleague sets a password; shown to the
    admin once, and mailed to the colleague, when an email is given, once the transaction commits.
    """
    require_role(actor, company, Role.SELLER_ADMIN)
    if role not in INVITABLE_ROLES:
        raise DomainError("Invite a colleague as seller admin or seller staff.", code="invalid_role", attr="role")
    with transaction.atomic():
        user = _user_create(username, email)
        membership = Membership.objects.create(user=user, company=company, role=role)
        audit_event_record(
            actor=actor,
            verb=MEMBER_INVITED,
            target=membership,
            data={"username": user.username, "role": membership.get_role_display().lower()},
        )
        link = site + password_set_path(user)
        if user.email:
            message = (
                f"{actor.user} has added you to {company.legal_name} on eHub as {membership.get_role_display()}.\n\n"
                f"Your username is {user.username}. Choose your password here (the link works once):\n{link}\n"
            )
            transaction.on_commit(
                lambda: send_mail(f"Your eHub account at {company.legal_name}", message, None, [user.email])
            )
    return membership, link


def integrator_create(*, actor, company: Company, username: str) -> Membership:
    """A seller admin creates an integrator of its company: a user that never logs in (it has no password)
    and acts only through the API keys the admin issues for it (`api_key_issue`), within the company."""
    require_role(actor, company, Role.SELLER_ADMIN)
    with transaction.atomic():
        user = _user_create(username)
        membership = Membership.objects.create(user=user, company=company, role=Role.INTEGRATOR)
        audit_event_record(actor=actor, verb=INTEGRATOR_CREATED, target=membership, data={"username": user.username})
    return membership
