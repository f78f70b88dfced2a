"""The system checks that keep tenant isolation one mechanism (`hubs.checks`).

`manage.py check` must fail when a model names tenant fields but has no scoped selector (hubs.E001), or
when a routed API viewset over tenant rows has no selector (hubs.E002). Throwaway models live in an
isolated app registry, so nothing defined here leaks into other tests.
"""

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import models
from django.test import override_settings
from django.test.utils import isolate_apps
from django.urls import path

from ewtp.api import router
from hubs.checks import routed_views, tenant_models_without_selector, tenant_scoping_check
from hubs.kernel.api import TenantViewSet
from hubs.scoping import SELECTORS


def throwaway_model(name, **attrs):
    """A model class of the `hubs` app; call it inside `isolate_apps("hubs")` so it registers nowhere real."""
    meta = type("Meta", (), {"app_label": "hubs", "managed": False})
    return type(name, (models.Model,), {"__module__": __name__, "Meta": meta, **attrs})


class OrphanViewSet(TenantViewSet):
    """A viewset over tenant rows that forgot its selector."""


# A tiny URL configuration routing the orphan viewset, for `override_settings(ROOT_URLCONF=__name__)`.
urlpatterns = [path("orphans/", OrphanViewSet.as_view({"get": "list"}))]


# --- the real project ---------------------------------------------------------------------------------------


def test_every_tenant_model_of_the_project_has_a_selector():
    assert tenant_models_without_selector() == []


def test_the_project_passes_the_tenant_scoping_check():
    assert tenant_scoping_check() == []
    call_command("check")  # raises SystemCheckError on any error


def test_the_check_walks_every_routed_tenant_viewset():
    # The check looks at the views the URLs route to: it must find the router's tenant viewsets
    routed = set(routed_views())
    assert {viewset for _, viewset, _ in router.registry if issubclass(viewset, TenantViewSet)} <= routed


# --- a tenant model without a selector ------------------------------------------------------------------


@pytest.mark.parametrize(
    "tenant_fields",
    [
        {"tenant_hub": "hub"},
        {"tenant_company": "hub__companies"},
        {"tenant_hub": ("hub",), "tenant_company": None},
    ],
    ids=["tenant_hub", "tenant_company", "a tuple of lookups"],
)
def test_a_tenant_model_without_a_selector_is_reported(tenant_fields):
    with isolate_apps("hubs") as isolated:
        # Given a model naming tenant fields, with no selector registered
        hub = models.ForeignKey("hubs.Hub", on_delete=models.CASCADE, related_name="+")
        orphan = throwaway_model("Orphan", hub=hub, **tenant_fields)

        # When the check looks at it
        reported = tenant_models_without_selector([orphan])
        with mock.patch("hubs.checks.apps", isolated):
            errors = tenant_scoping_check()

    # Then it is reported, and `manage.py check` fails with hubs.E001 naming it
    assert reported == [orphan]
    assert [(error.id, error.obj) for error in errors] == [("hubs.E001", orphan)]
    assert "hubs.Orphan" in errors[0].msg


def test_a_tenant_model_with_a_selector_is_not_reported():
    with isolate_apps("hubs"):
        orphan = throwaway_model("Adopted", hub=models.IntegerField(), tenant_hub="hub")
        with mock.patch.dict(SELECTORS, {orphan: lambda actor: None}):
            assert tenant_models_without_selector([orphan]) == []
        assert tenant_models_without_selector([orphan]) == [orphan]


def test_a_model_without_tenant_fields_is_not_reported():
    with isolate_apps("hubs"):
        reference = throwaway_model("Reference", code=models.CharField(max_length=3))
        assert tenant_models_without_selector([reference]) == []


# --- a tenant viewset without a selector ----------------------------------------------------------------


@override_settings(ROOT_URLCONF=__name__)
def test_a_routed_tenant_viewset_without_a_selector_fails_the_check():
    # Given URLs routing a TenantViewSet subclass that sets no selector
    assert OrphanViewSet in set(routed_views())

    # When the check runs, then it reports hubs.E002 naming the viewset
    errors = tenant_scoping_check()
    assert [(error.id, error.obj) for error in errors] == [("hubs.E002", OrphanViewSet)]
    assert "OrphanViewSet" in errors[0].msg


@override_settings(ROOT_URLCONF=__name__)
def test_a_routed_tenant_viewset_with_a_selector_passes_the_check():
    with mock.patch.object(OrphanViewSet, "selector", staticmethod(lambda actor: None)):
        assert tenant_scoping_check() == []
