"""Consolidation in the API, read only: departures and their consignments (the hubs' officers and integrators),
and parcels with the consignment each rides in and its share of the cost (their sellers' too)."""

from rest_framework import mixins, serializers

from hubs.kernel.api import MoneyField, TenantViewSet
from logistics.models import Consignment, Departure, Parcel
from logistics.selectors import consignments_for, departures_for, parcels_for


class ParcelSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    order = serializers.CharField(source="order.public_id", read_only=True)
    consignment = serializers.CharField(source="consignment.public_id", read_only=True, allow_null=True)
    cost_share = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = Parcel
        fields = [
            "id",
            "order",
            "weight_kg",
            "length_cm",
            "width_cm",
            "height_cm",
            "received_at",
            "consignment",
            "chargeable_kg",
            "cost_share",
        ]
        read_only_fields = fields


class ConsignmentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    departure = serializers.CharField(source="departure.public_id", read_only=True)
    cost = MoneyField(read_only=True)
    utilisation = serializers.DecimalField(max_digits=6, decimal_places=4, read_only=True)
    parcels = ParcelSerializer(many=True, read_only=True)

    class Meta:
        model = Consignment
        fields = [
            "id",
            "departure",
            "number",
            "weight_kg",
            "volume_m3",
            "chargeable_kg",
            "utilisation",
            "cost",
            "carrier",
            "waybill",
            "booked_at",
            "parcels",
        ]
        read_only_fields = fields


class DepartureSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    origin_hub = serializers.CharField(source="origin_hub.code", read_only=True)
    destination_hub = serializers.CharField(source="destination_hub.code", read_only=True)
    unit_type = serializers.CharField(source="unit_type.code", read_only=True)
    unit_cost = MoneyField(read_only=True)
    consignments = serializers.SlugRelatedField(slug_field="public_id", many=True, read_only=True)

    class Meta:
        model = Departure
        fields = [
            "id",
            "origin_hub",
            "destination_hub",
            "unit_type",
            "units",
            "unit_cost",
            "cut_off_at",
            "departs_at",
            "status",
            "consignments",
        ]
        read_only_fields = fields


class DepartureViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Departures through the actor's hubs: their units, cost, cut-off and, once closed, their consignments."""

    selector = staticmethod(departures_for)
    serializer_class = DepartureSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("consignments")


class ConsignmentViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Consignments through the actor's hubs, each with its manifest of parcels and its utilisation."""

    selector = staticmethod(consignments_for)
    serializer_class = ConsignmentSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        return super().get_queryset().prefetch_related("parcels__order")


class ParcelViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Parcels of the actor's orders (or through its hubs): where each rides and its share of the cost."""

    selector = staticmethod(parcels_for)
    serializer_class = ParcelSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
