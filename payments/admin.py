from django.contrib import admin

from hubs.admin import TenantAdmin
from payments.models import Account, Payment, Posting


class LedgerAdmin(TenantAdmin):
    """The ledger is read in the console, never written: transactions are posted by the payment services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(LedgerAdmin):
    list_display = ["__str__", "kind", "currency", "balance", "pending"]
    list_filter = ["kind", "currency"]
    list_select_related = ["company", "hub"]


@admin.register(Posting)
class PostingAdmin(LedgerAdmin):
    """An account's statement: filter by account."""

    list_display = ["id", "created_at", "account", "side", "amount", "transaction", "order_ref"]
    list_filter = ["side", "account__kind"]
    search_fields = ["transaction__public_id", "transaction__order_ref", "transaction__description"]
    list_select_related = ["account__company", "account__hub", "transaction"]

    @admin.display(ordering="transaction__created_at")
    def created_at(self, posting):
        return posting.transaction.created_at

    @admin.display(ordering="transaction__order_ref")
    def order_ref(self, posting):
        return posting.transaction.order_ref


@admin.register(Payment)
class PaymentAdmin(LedgerAdmin):
    """The buyers' payments of the orders through the officer's hub."""

    list_display = ["public_id", "order", "amount", "status", "provider", "created_at", "captured_at"]
    list_filter = ["status", "provider"]
    search_fields = ["public_id", "order__public_id", "provider_ref"]
    list_select_related = ["order"]
    exclude = ["method"]
