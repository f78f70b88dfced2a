from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        # Payments reacts to the order's journey, whoever drives it (the order services, the console, customs).
        from hubs.kernel.sections import section
        from hubs.kernel.transitions import react_to
        from payments import tasks
        from payments.selectors import order_money
        from trade.models import Order, OrderStatus

        react_to(Order, OrderStatus.IMPORT_RELEASED, tasks.duties_to_hub_task)
        react_to(Order, OrderStatus.DELIVERED, tasks.escrow_release_task)
        react_to(Order, OrderStatus.REJECTED, tasks.order_rejected_refund_task)
        section("order", "payments/_order_section.html", order_money)  # the order's payment and payout
