from django.apps import AppConfig


class CustomsConfig(AppConfig):
    name = "customs"

    def ready(self):
        from customs.selectors import order_declarations
        from hubs.kernel.sections import section

        section("order", "customs/_order_section.html", order_declarations)  # the order's declarations, lanes
