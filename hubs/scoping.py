"""Tenant scoping: the one place that turns an actor into the rows it may see.

Every tenant-owned model names the lookup from itself to its company (`tenant_company`) and to its
hub (`tenant_hub`, or a tuple of lookups when a row concerns two hubs, as an order does). An actor
sees a row when it is a member of the row's company, or serves the row's hub (officer, supervisor
or hub system). Selectors, the base API viewset and the base ModelAdmin all call `restrict`, so
isolation is one mechanism.
"""

import operator
from dataclasses import dataclass, field
from functools import reduce

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with its memberships, or an API key with just its own membership."""

    user: object
    memberships: tuple = ()
    api_key: object = None
    is_superuser: bool = False
    company_ids: frozenset = field(init=False)
    hub_ids: frozenset = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "company_ids", frozenset(m.company_id for m in self.memberships if m.company_id))
        object.__setattr__(self, "hub_ids", frozenset(m.hub_id for m in self.memberships if m.hub_id))

    @property
    def label(self):
        if self.api_key is not None:
            return f"{self.user} (API key {self.api_key.prefix})"
        return str(self.user)

    def roles_at(self, tenant):
        """The roles this actor holds at a company or hub (an object with `_meta`)."""
        attr = "company_id" if tenant._meta.model_name == "company" else "hub_id"
        return {m.role for m in self.memberships if getattr(m, attr) == tenant.pk}

    def has_role(self, *roles):
        return any(m.role in roles for m in self.memberships)

    @property
    def companies(self):
        """The companies this actor acts for, in membership order."""
        return list({m.company_id: m.company for m in self.memberships if m.company_id}.values())

    def acting_company(self, company_id=None):
        """The company this actor acts for: the one named, or its only one. None when that is unclear."""
        companies = {company.pk: company for company in self.companies}
        if company_id is not None:
            return companies.get(int(company_id))
        return next(iter(companies.values())) if len(companies) == 1 else None


def actor_for(user, api_key=None):
    """The actor of a user (all its memberships) or of an API key (its membership only)."""
    if api_key is not None:
        return Actor(user=user, memberships=(api_key.membership,), api_key=api_key)
    if not user.is_authenticated:
        return Actor(user=user)
    memberships = tuple(user.memberships.select_related("company__home_hub", "hub").order_by("pk"))
    return Actor(user=user, memberships=memberships, is_superuser=user.is_superuser)


def actor_for_request(request):
    """The request's actor, computed once per request."""
    if not hasattr(request, "_actor"):
        api_key = getattr(request, "auth", None)
        request._actor = actor_for(request.user, api_key if _is_api_key(api_key) else None)
    return request._actor


def _is_api_key(auth):
    return auth is not None and hasattr(auth, "membership_id")


def require_role(actor, tenant, *roles) -> None:
    """Refuse unless `actor` holds one of `roles` at `tenant` (a company or a hub), or is a superuser."""
    if actor.is_superuser or actor.roles_at(tenant) & set(roles):
        return
    who = getattr(tenant, "legal_name", None) or getattr(tenant, "code", str(tenant))
    names = " or ".join(sorted(str(role.label if hasattr(role, "label") else role).lower() for role in roles))
    raise PermissionDenied(f"Only a {names} of {who} may do this.")


def tenant_lookups(model, attr):
    """A model's tenant lookups to its companies (`tenant_company`) or hubs (`tenant_hub`), as a tuple."""
    lookups = getattr(model, attr, None) or ()
    return (lookups,) if isinstance(lookups, str) else tuple(lookups)


def is_tenant_model(model) -> bool:
    return bool(tenant_lookups(model, "tenant_hub") or tenant_lookups(model, "tenant_company"))


def restrict(queryset, actor):
    """The rows of `queryset` that `actor` may see."""
    if actor.is_superuser:
        return queryset
    model = queryset.model
    visible = []
    if actor.company_ids:
        visible.extend(Q(**{f"{lookup}__in": actor.company_ids}) for lookup in tenant_lookups(model, "tenant_company"))
    if actor.hub_ids:
        visible.extend(Q(**{f"{lookup}__in": actor.hub_ids}) for lookup in tenant_lookups(model, "tenant_hub"))
    if not visible:
        return queryset.none()
    restricted = queryset.filter(reduce(operator.or_, visible))
    many = any(
        model._meta.get_field(lookup.split("__")[0]).many_to_many
        for attr in ("tenant_company", "tenant_hub")
        for lookup in tenant_lookups(model, attr)
        if lookup != "id"
    )
    return restricted.distinct() if many else restricted


# The one scoped selector of each tenant model: model → `<nouns>_for(actor)`.
SELECTORS: dict = {}


def selector_for(model):
    """Register the decorated function as `model`'s scoped selector."""

    def register(selector):
        SELECTORS[model] = selector
        return selector

    return register


class TenantQuerySet(models.QuerySet):
    def restrict(self, actor):
        return restrict(self, actor)
