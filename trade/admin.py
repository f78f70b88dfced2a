"""Officer console pages of trade: the listings, quotes and orders that concern the officer's hub."""

from django.contrib import admin

from hubs.admin import ConsoleMixin, ReadOnly, TenantAdmin
from trade.models import Listing, Order, OrderLine, Quote, QuoteLine

LINE_FIELDS = ["position", "listing", "description", "hs_code", "quantity", "unit_price", "value", "taxes_total"]


@admin.register(Listing)
class ListingAdmin(TenantAdmin):
    list_display = ["public_id", "title", "company", "hub", "hs_code", "unit_price", "stock", "status"]
    list_filter = ["status", "hub"]
    search_fields = ["public_id", "title", "hs_code"]
    list_select_related = ["company", "hub"]


class QuoteLineInline(ReadOnly, ConsoleMixin, admin.TabularInline):
    """Lines as quoted: seen by whoever sees the quote, changed by nobody; a listing links only for the
    officers of its hub."""

    model = QuoteLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Quote)
class QuoteAdmin(TenantAdmin):
    list_display = ["public_id", "company", "origin_hub", "destination_hub", "regime", "total", "expires_at"]
    list_filter = ["regime", "destination_hub"]
    search_fields = ["public_id"]
    list_select_related = ["company", "origin_hub", "destination_hub"]
    exclude = ["consumer_hash"]
    inlines = [QuoteLineInline]


class OrderLineInline(QuoteLineInline):
    model = OrderLine


@admin.register(Order)
class OrderAdmin(TenantAdmin):
    list_display = ["public_id", "company", "origin_hub", "destination_hub", "status", "regime", "total", "placed_at"]
    list_filter = ["status", "origin_hub", "destination_hub"]
    search_fields = ["public_id", "buyer__name"]
    list_select_related = ["company", "origin_hub", "destination_hub"]
    date_hierarchy = "placed_at"
    inlines = [OrderLineInline]
