from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from hubs.kernel.errors import DomainError
from hubs.models import ApiKey, AuditEvent, Membership, Role
from hubs.scoping import actor_for
from hubs.services import api_key_issue, api_key_mark_used, api_key_revoke, company_verify
from tests.tenants import issue_key


def test_an_issued_key_is_stored_only_as_a_hash(hgh):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator, name="Shop ERP")

    stored = ApiKey.objects.get(pk=api_key.pk)
    secret = key.partition(".")[2]
    assert len(secret) >= 32
    assert secret not in stored.hashed_key
    assert secret not in stored.pk
    assert stored.hashed_key.startswith("sha512$$")
    assert stored.is_valid(key)
    assert stored.issued_by == hgh.seller_admin.user
    event = AuditEvent.objects.get(verb="api_key.issued")
    assert (event.company, list(event.hubs.all()), event.target_id) == (hgh.company, [], api_key.pk)
    assert key not in str(event.data)


def test_two_keys_never_share_a_secret(hgh):
    keys = {issue_key(hgh.seller_admin, hgh.company_integrator)[1] for _ in range(5)}
    assert len(keys) == 5


@pytest.mark.parametrize("issuer", ["seller_staff", "officer", "supervisor"])
def test_only_the_seller_admin_or_the_integrator_issue_company_keys(hgh, issuer):
    actor = actor_for(getattr(hgh, issuer).user)
    with pytest.raises(PermissionDenied):
        api_key_issue(actor=actor, membership=hgh.company_integrator, name="ERP")
    assert not ApiKey.objects.exists()


def test_an_integrator_issues_its_own_keys_and_a_supervisor_those_of_its_hub(hgh):
    _, own = api_key_issue(actor=actor_for(hgh.company_integrator.user), membership=hgh.company_integrator, name="x")
    _, hubs = api_key_issue(actor=actor_for(hgh.supervisor.user), membership=hgh.hub_integrator, name="y")
    assert own != hubs


def test_a_seller_admin_cannot_issue_keys_for_another_company(hgh, mys):
    with pytest.raises(PermissionDenied):
        api_key_issue(actor=actor_for(mys.seller_admin.user), membership=hgh.company_integrator, name="ERP")


def test_keys_are_issued_only_to_integrators(hgh):
    with pytest.raises(PermissionDenied):
        api_key_issue(actor=actor_for(hgh.seller_admin.user), membership=hgh.seller_staff, name="ERP")


def test_an_api_key_cannot_issue_keys(hgh):
    api_key, _ = issue_key(hgh.seller_admin, hgh.company_integrator)
    with pytest.raises(PermissionDenied):
        api_key_issue(actor=actor_for(api_key.membership.user, api_key), membership=hgh.company_integrator, name="x")


def test_a_key_needs_a_name(hgh):
    with pytest.raises(DomainError) as error:
        api_key_issue(actor=actor_for(hgh.seller_admin.user), membership=hgh.company_integrator, name="  ")
    assert error.value.code == "required"
    assert not ApiKey.objects.exists()


def test_a_key_cannot_expire_in_the_past(hgh):
    with pytest.raises(DomainError) as error:
        api_key_issue(
            actor=actor_for(hgh.seller_admin.user),
            membership=hgh.company_integrator,
            name="ERP",
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    assert error.value.attr == "expires_at"
    assert not ApiKey.objects.exists()


def test_revoking_is_final_and_audited(hgh):
    api_key, _ = issue_key(hgh.seller_admin, hgh.company_integrator)
    actor = actor_for(hgh.seller_admin.user)

    api_key_revoke(actor=actor, api_key=api_key, reason="laptop lost")

    assert ApiKey.objects.get(pk=api_key.pk).revoked
    event = AuditEvent.objects.get(verb="api_key.revoked")
    assert (event.actor, event.reason, event.company) == (hgh.seller_admin.user, "laptop lost", hgh.company)
    with pytest.raises(DomainError):
        api_key_revoke(actor=actor, api_key=api_key)
    assert AuditEvent.objects.filter(verb="api_key.revoked").count() == 1


def test_another_company_cannot_revoke_a_key(hgh, mys):
    api_key, _ = issue_key(hgh.seller_admin, hgh.company_integrator)
    with pytest.raises(PermissionDenied):
        api_key_revoke(actor=actor_for(mys.seller_admin.user), api_key=api_key)
    assert not ApiKey.objects.get(pk=api_key.pk).revoked


def test_last_used_stamp_never_moves_back(hgh):
    api_key, _ = issue_key(hgh.seller_admin, hgh.company_integrator)
    later = timezone.now()
    api_key_mark_used(api_key_id=api_key.pk, used_at=later)
    api_key_mark_used(api_key_id=api_key.pk, used_at=later - timedelta(minutes=5))
    api_key_mark_used(api_key_id=api_key.pk, used_at=later)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == later


def test_a_supervisor_verifies_a_company_of_its_hub_once(hgh):
    company_verify(actor=actor_for(hgh.supervisor.user), company=hgh.company, reason="registry checked")

    hgh.company.refresh_from_db()
    assert hgh.company.verified
    event = AuditEvent.objects.get(verb="company.verified")
    assert list(event.hubs.all()) == [hgh.hub]
    assert (event.data, event.sentence) == (
        {"from": False, "to": True},
        f"Verified by {hgh.supervisor.user}: registry checked",
    )
    with pytest.raises(DomainError) as again:
        company_verify(actor=actor_for(hgh.supervisor.user), company=hgh.company)
    assert again.value.code == "invalid_transition"


@pytest.mark.parametrize("who", ["hgh.officer", "hgh.seller_admin", "mys.supervisor"])
def test_nobody_else_verifies_a_company(hgh, mys, who):
    tenant, role = who.split(".")
    actor = actor_for(getattr({"hgh": hgh, "mys": mys}[tenant], role).user)
    with pytest.raises(PermissionDenied):
        company_verify(actor=actor, company=hgh.company)
    hgh.company.refresh_from_db()
    assert not hgh.company.verified


@pytest.mark.parametrize(
    "binding",
    [
        {"role": Role.HUB_OFFICER, "company": "company"},
        {"role": Role.SELLER_ADMIN, "hub": "hub"},
        {"role": Role.INTEGRATOR},
        {"role": Role.INTEGRATOR, "company": "company", "hub": "hub"},
    ],
)
def test_the_database_refuses_a_role_bound_to_the_wrong_tenant(hgh, binding):
    fields = {key: getattr(hgh, value) if key in ("company", "hub") else value for key, value in binding.items()}
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=hgh.seller_admin.user, **fields)
