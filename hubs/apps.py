from django.apps import AppConfig


class HubsConfig(AppConfig):
    name = "hubs"
    verbose_name = "Hubs and tenancy"

    def ready(self):
        from hubs import (
            checks,  # noqa: F401  (registers the tenant-scoping system checks)
            selectors,  # noqa: F401  (connects the caches' invalidation to every save)
        )
