"""The cast of the isolation tests: a hub with a company, a person in every role, and ways to act as them."""

from dataclasses import dataclass

from rest_framework.test import APIClient

from hubs.models import Role
from hubs.scoping import actor_for
from hubs.selectors import integrator_memberships_managed_by
from hubs.services import api_key_issue
from tests.factories import CompanyFactory, HubFactory, MembershipFactory


@dataclass
class Tenant:
    """One hub with one company, and a user in each role."""

    hub: object
    company: object
    seller_admin: object
    seller_staff: object
    company_integrator: object
    officer: object
    supervisor: object
    hub_integrator: object


def make_tenant(code, country, currency, timezone):
    hub = HubFactory(code=code, country=country, currency=currency, timezone=timezone)
    company = CompanyFactory(home_hub=hub)

    def member(role, **binding):
        return MembershipFactory(role=role, user__is_staff=role in (Role.HUB_OFFICER, Role.HUB_SUPERVISOR), **binding)

    return Tenant(
        hub=hub,
        company=company,
        seller_admin=member(Role.SELLER_ADMIN, company=company),
        seller_staff=member(Role.SELLER_STAFF, company=company),
        company_integrator=member(Role.INTEGRATOR, company=company),
        officer=member(Role.HUB_OFFICER, hub=hub),
        supervisor=member(Role.HUB_SUPERVISOR, hub=hub),
        hub_integrator=member(Role.INTEGRATOR, hub=hub),
    )


def issue_key(issuer_membership, integrator_membership, name="ERP"):
    """Issue an API key as `issuer_membership`'s user; returns (row, key)."""
    actor = actor_for(issuer_membership.user)
    assert integrator_memberships_managed_by(actor).filter(pk=integrator_membership.pk).exists()
    return api_key_issue(actor=actor, membership=integrator_membership, name=name)


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def session_client(membership):
    client = APIClient()
    client.force_login(membership.user)
    return client
