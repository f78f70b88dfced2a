from django.contrib import admin

from hubs.admin import ReadOnly, TenantAdmin
from logistics.models import Consignment, Departure, Parcel


class ConsignmentInline(ReadOnly, admin.TabularInline):
    model = Consignment
    fields = ["public_id", "number", "weight_kg", "volume_m3", "chargeable_kg", "utilisation", "cost", "waybill"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="Utilisation")
    def utilisation(self, consignment):
        return f"{consignment.utilisation:.1%}"


@admin.register(Departure)
class DepartureAdmin(ReadOnly, TenantAdmin):
    """Departures through the officer's hub, with their consignments' capacity and utilisation."""

    list_display = ["public_id", "origin_hub", "destination_hub", "unit_type", "units", "cut_off_at", "status"]
    list_filter = ["status", "unit_type"]
    search_fields = ["public_id"]
    list_select_related = ["origin_hub", "destination_hub", "unit_type"]
    inlines = [ConsignmentInline]


class ParcelInline(ReadOnly, admin.TabularInline):
    model = Parcel
    fields = ["public_id", "order", "weight_kg", "length_cm", "width_cm", "height_cm", "chargeable_kg", "cost_share"]
    readonly_fields = fields
    extra = 0


@admin.register(Consignment)
class ConsignmentAdmin(ReadOnly, TenantAdmin):
    """A consignment's manifest: its parcels, each with its order, chargeable weight and share of the cost."""

    inlines = [ParcelInline]
    list_display = ["public_id", "departure", "number", "weight_kg", "volume_m3", "chargeable_kg", "cost", "waybill"]
    search_fields = ["public_id", "departure__public_id", "waybill"]
    list_select_related = ["departure__origin_hub", "departure__destination_hub"]


@admin.register(Parcel)
class ParcelAdmin(ReadOnly, TenantAdmin):
    list_display = ["public_id", "order", "weight_kg", "chargeable_kg", "received_at", "consignment", "cost_share"]
    search_fields = ["public_id", "order__public_id", "consignment__public_id"]
    list_select_related = ["order", "consignment"]
