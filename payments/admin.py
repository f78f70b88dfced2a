from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import ngettext

from hubs.admin import TenantAdmin
from payments.models import Account, Payment, Posting, ReconciliationRun
from payments.services import reconciliation_run


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


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    """The platform's books proven (nightly, by `manage.py reconcile`, or from here): staff only, as the platform's
    own accounts are."""

    list_display = ["ran_at", "clean", "difference_count", "period_from", "period_to"]
    fields = ["ran_at", "period_from", "period_to", "found"]
    readonly_fields = fields
    change_list_template = "admin/payments/reconciliationrun/change_list.html"

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="Clean")
    def clean(self, run):
        return run.clean

    @admin.display(description="Differences")
    def difference_count(self, run):
        return len(run.differences)

    @admin.display(description="What differs")
    def found(self, run):
        lines = [f"{d['check']}: {d['subject']}: expected {d['expected']}, found {d['found']}" for d in run.differences]
        return "\n".join(lines) or "Nothing: the books reconcile."

    def get_urls(self):
        run_now = path("run/", self.admin_site.admin_view(self.run_now), name="payments_reconciliationrun_run")
        return [run_now, *super().get_urls()]

    def run_now(self, request):
        if request.method != "POST" or not request.user.is_superuser:
            raise PermissionDenied
        run = reconciliation_run()
        found = len(run.differences)
        if found:
            message = ngettext("%d difference found.", "%d differences found.", found) % found
            self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, "The books reconcile.", messages.SUCCESS)
        return redirect("admin:payments_reconciliationrun_changelist")
