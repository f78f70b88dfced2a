"""Isolation: an actor of one tenant sees none of another tenant's rows, in every model."""

import pytest

from hubs.models import ApiKey, AuditEvent, Company, Hub, Membership
from hubs.scoping import actor_for, restrict
from tests.factories import MembershipFactory
from tests.tenants import issue_key

ROLES = ["seller_admin", "seller_staff", "company_integrator", "officer", "supervisor", "hub_integrator"]


def tenant_rows(tenant):
    """Every row of every tenant-owned model that belongs to `tenant`."""
    company_key, _ = issue_key(tenant.seller_admin, tenant.company_integrator)
    hub_key, _ = issue_key(tenant.supervisor, tenant.hub_integrator)
    return {
        Hub: {tenant.hub.pk},
        Company: {tenant.company.pk},
        Membership: {getattr(tenant, role).pk for role in ROLES},
        ApiKey: {company_key.pk, hub_key.pk},
        AuditEvent: set(
            AuditEvent.objects.filter(target_id__in=[company_key.pk, hub_key.pk]).values_list("pk", flat=True)
        ),
    }


@pytest.mark.parametrize("role", ROLES)
def test_no_actor_of_another_tenant_sees_any_row(hgh, mys, role):
    hgh_rows = tenant_rows(hgh)
    mys_actor = actor_for(getattr(mys, role).user)

    for model, pks in hgh_rows.items():
        assert pks, f"the cast has no {model.__name__} row to hide"
        visible = set(restrict(model.objects.all(), mys_actor).values_list("pk", flat=True))
        assert not visible & pks, f"{role} of MYS sees {model.__name__} rows of HGH"


def test_an_api_key_sees_only_its_own_membership_scope(hgh, mys):
    hgh_rows = tenant_rows(hgh)
    key, _ = issue_key(mys.seller_admin, mys.company_integrator)
    # the key's integrator also holds a role at HGH: the key still acts with its own membership only
    MembershipFactory(user=mys.company_integrator.user, role="seller_admin", company=hgh.company)
    key_actor = actor_for(key.membership.user, key)

    for model, pks in hgh_rows.items():
        assert not set(restrict(model.objects.all(), key_actor).values_list("pk", flat=True)) & pks
    assert set(restrict(Company.objects.all(), key_actor)) == {mys.company}


def test_sellers_see_their_company_and_officers_their_hub(hgh, mys):
    assert list(restrict(Company.objects.all(), actor_for(hgh.seller_staff.user))) == [hgh.company]
    assert list(restrict(Company.objects.all(), actor_for(hgh.officer.user))) == [hgh.company]
    assert list(restrict(Hub.objects.all(), actor_for(mys.supervisor.user))) == [mys.hub]
    assert list(restrict(Hub.objects.all(), actor_for(mys.seller_admin.user))) == []


def test_a_superuser_sees_every_tenant(hgh, mys, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    assert set(restrict(Company.objects.all(), actor_for(root))) == {hgh.company, mys.company}
