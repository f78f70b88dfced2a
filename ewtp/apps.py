from django.apps import AppConfig


class JourneyConfig(AppConfig):
    name = "ewtp"
    label = "journey"
    verbose_name = "The order's journey"

    def ready(self):
        from ewtp import lifecycle

        lifecycle.wire()
