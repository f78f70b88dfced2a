"""System checks that keep tenant isolation one mechanism: `manage.py check` fails on a tenant model
without a scoped selector, or an API viewset over tenant rows without one."""

from django.apps import apps
from django.core.checks import Error, register
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import autodiscover_modules

from hubs.kernel.api import TenantViewSet
from hubs.scoping import SELECTORS, is_tenant_model


def tenant_models_without_selector(models=None) -> list:
    """The tenant models (those naming `tenant_hub` or `tenant_company`) that have no registered selector."""
    autodiscover_modules("selectors")
    models = apps.get_models() if models is None else models
    return [model for model in models if is_tenant_model(model) and model not in SELECTORS]


def routed_views(patterns=None):
    """Every view class the URL configuration routes to."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routed_views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield pattern.callback.cls


@register()
def tenant_scoping_check(app_configs=None, **kwargs):
    errors = [
        Error(
            f"{model._meta.label} names tenant fields but has no scoped selector.",
            hint="Register its `<nouns>_for(actor)` selector with @selector_for(Model).",
            obj=model,
            id="hubs.E001",
        )
        for model in tenant_models_without_selector()
    ]
    errors += [
        Error(
            f"{view.__name__} reads tenant rows without a selector.",
            hint="Set `selector = staticmethod(<nouns>_for)`.",
            obj=view,
            id="hubs.E002",
        )
        for view in set(routed_views())
        if issubclass(view, TenantViewSet) and view.selector is None
    ]
    return errors
