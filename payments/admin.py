from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from hubs.admin import ConsoleMixin, ReadOnly, TenantAdmin
from hubs.scoping import actor_for_request
from payments.models import Account, Corridor, Payment, Payout, Posting, ReconciliationRun, Tranche
from payments.services import corridor_save, reconciliation_run


class LedgerAdmin(ReadOnly, TenantAdmin):
    """The ledger is read in the console, never written: transactions are posted by the payment services."""


@admin.register(Account)
class AccountAdmin(LedgerAdmin):
    """Accounts in the officer's hub (its tax account among them), each with a link to its statement."""

    list_display = ["__str__", "kind", "currency", "balance", "pending", "statement"]
    list_filter = ["kind", "currency"]
    list_select_related = ["company", "hub"]

    @admin.display(description="Statement")
    def statement(self, account):
        url = reverse("admin:payments_posting_changelist")
        return format_html('<a href="{}?account={}">Postings</a>', url, account.pk)


@admin.register(Posting)
class PostingAdmin(LedgerAdmin):
    """An account's statement (`?account=<id>`, linked from the accounts), newest first."""

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


class StaffOnly:
    """Console pages of the platform's own data: staff only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnly, StaffOnly, admin.ModelAdmin):
    """The platform's books proven (nightly, by `manage.py reconcile`, or from here): staff only, as the platform's
    own accounts are."""

    list_display = ["ran_at", "clean", "difference_count", "period_from", "period_to"]
    fields = ["ran_at", "period_from", "period_to", "found"]
    readonly_fields = fields
    change_list_template = "admin/payments/reconciliationrun/change_list.html"

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


@admin.register(Corridor)
class CorridorAdmin(StaffOnly, admin.ModelAdmin):
    """Remittance corridors: their caps, delay, fees and spread. Each change is an audit event."""

    list_display = [
        "__str__",
        "per_transfer_cap",
        "daily_cap",
        "settlement_days",
        "flat_fee",
        "percent_fee",
        "fx_spread",
    ]
    list_filter = ["active", "currency"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        corridor_save(actor=actor_for_request(request), corridor=obj, changed=form.changed_data)


class TrancheInline(ReadOnly, ConsoleMixin, admin.TabularInline):
    model = Tranche
    fields = ["number", "amount", "fee", "send_on", "status", "attempts", "rail_ref", "settled_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Payout)
class PayoutAdmin(LedgerAdmin):
    """Sellers' payouts of the orders through the officer's hub, with their tranches."""

    list_display = ["public_id", "company", "order", "gross", "fees", "net", "status", "expected_completion"]
    list_filter = ["status"]
    search_fields = ["public_id", "order__public_id"]
    list_select_related = ["company", "order"]
    inlines = [TrancheInline]
