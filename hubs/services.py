from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from rest_framework_api_key.crypto import concatenate

from hubs.errors import DomainError
from hubs.models import ApiKey, AuditEvent, Company, Role
from hubs.selectors import integrator_memberships_managed_by


def _tenant_of(obj, lookup):
    """Follow a model's tenant lookup (`"membership__company"`, `"id"`) from a row to its company or hub."""
    if lookup is None:
        return None
    if lookup == "id":
        return obj
    for part in lookup.split("__"):
        obj = getattr(obj, part)
        if obj is None:
            return None
    return obj


def audit_event_record(*, actor, verb, target, reason="", data=None):
    """Record one state change of `target`, filed under the target's hub and company."""
    model = type(target)
    return AuditEvent.objects.create(
        actor=actor.user if actor and actor.user.is_authenticated else None,
        actor_label=actor.label if actor else "system",
        hub=_tenant_of(target, getattr(model, "tenant_hub", None)),
        company=_tenant_of(target, getattr(model, "tenant_company", None)),
        verb=verb,
        target_type=ContentType.objects.get_for_model(model),
        target_id=str(target.pk),
        reason=reason,
        data=data or {},
    )


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
        audit_event_record(actor=actor, verb="api_key.issued", target=api_key, data={"name": api_key.name})
    return api_key, key


def api_key_revoke(*, actor, api_key, reason=""):
    """Revoke a key for good: from now on it authenticates nothing."""
    if not integrator_memberships_managed_by(actor).filter(pk=api_key.membership_id).exists():
        raise PermissionDenied(ONLY_MANAGERS.format(verb="revoke"))
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked:
            raise DomainError(f"The key “{api_key.name}” is already revoked.", code="already_revoked")
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
        audit_event_record(actor=actor, verb="api_key.revoked", target=api_key, reason=reason)
    return api_key


def api_key_mark_used(*, api_key_id, used_at):
    """Stamp when a key was last used; a late or repeated stamp never moves it back."""
    ApiKey.objects.filter(pk=api_key_id).exclude(last_used_at__gte=used_at).update(last_used_at=used_at)


def company_verify(*, actor, company, reason=""):
    """A supervisor of the company's home hub confirms its registration."""
    if not actor.is_superuser and Role.HUB_SUPERVISOR not in actor.roles_at(company.home_hub):
        raise PermissionDenied("Only a supervisor of the company's home hub may verify it.")
    with transaction.atomic():
        company = Company.objects.select_for_update().get(pk=company.pk)
        if company.verified:
            raise DomainError(f"{company.legal_name} is already verified.", code="already_verified")
        company.verified = True
        company.save(update_fields=["verified"])
        audit_event_record(actor=actor, verb="company.verified", target=company, reason=reason)
    return company
