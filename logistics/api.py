"""Logistics in the API, read only: departures and their consignments (the hubs' officers and integrators),
parcels with the consignment each rides in and its share of the cost, and shipments with their tracking (their
sellers' too); and the carrier's tracking webhook."""

from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.kernel.api import MoneyField, TenantViewSet
from hubs.kernel.webhooks import SignedWebhookView
from logistics.carriers import carrier
from logistics.documents import pdf_response
from logistics.models import (
    Consignment,
    Departure,
    DocumentKind,
    Parcel,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
    TransportMode,
)
from logistics.selectors import consignments_for, departures_for, parcels_for, shipments_for
from logistics.services import carrier_events_scope, shipment_document, shipping_rates, tracking_event_record


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


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["occurred_at", "status", "place", "description"]
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    order = serializers.CharField(source="order.public_id", read_only=True)
    tracking = TrackingEventSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "order", "status", "carrier", "waybill", "sender", "receiver", "created_at", "tracking"]
        read_only_fields = fields


class ShipmentViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Orders' shipments with their waybill and tracking timeline, oldest event first; their label and packing
    list as PDFs once booked."""

    selector = staticmethod(shipments_for)
    serializer_class = ShipmentSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status"]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def label(self, request, *args, **kwargs):
        """The shipping label (the waybill as a Code 128 barcode, sender and receiver), a PDF."""
        return pdf_response(shipment_document(shipment=self.get_object(), kind=DocumentKind.LABEL))

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="packing-list")
    def packing_list(self, request, *args, **kwargs):
        """The packing list (the goods and the parcels), a PDF."""
        return pdf_response(shipment_document(shipment=self.get_object(), kind=DocumentKind.PACKING_LIST))


class TrackingEventInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, help_text="The carrier's event id: an event is applied once.")
    waybill = serializers.CharField(max_length=40)
    status = serializers.ChoiceField(choices=[s for s in ShipmentStatus.values if s not in ("created", "booked")])
    occurred_at = serializers.DateTimeField(help_text="With its offset.")
    place = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    description = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class CarrierWebhookView(SignedWebhookView):
    """The carrier reports tracking events. Signed (`Carrier-Signature`) under `CARRIER_WEBHOOK_SECRETS`, refused
    outside a 5-minute window, applied once per event id; an unknown waybill is refused."""

    signature_header = "Carrier-Signature"
    event_serializer = TrackingEventInputSerializer

    def secrets(self):
        return settings.CARRIER_WEBHOOK_SECRETS

    def scope(self):
        return carrier_events_scope()

    def apply(self, event):
        recorded = tracking_event_record(
            carrier_name=carrier().name,
            event_id=event["id"],
            waybill=event["waybill"],
            status=event["status"],
            occurred_at=event["occurred_at"],
            place=event["place"],
            description=event["description"],
        )
        shipment = recorded.shipment
        shipment.refresh_from_db(fields=["status"])
        return {"shipment": shipment.public_id, "status": shipment.status}


class RateQuerySerializer(serializers.Serializer):
    origin = serializers.CharField(max_length=3, help_text="The origin hub's code, e.g. HGH.")
    destination = serializers.CharField(max_length=3, help_text="The destination hub's code, e.g. MYS.")
    mode = serializers.ChoiceField(choices=TransportMode.choices, default=TransportMode.AIR)
    currency = serializers.ChoiceField(choices=settings.CURRENCIES, default="USD")
    weight_kg = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=Decimal("0.001"))
    length_cm = serializers.DecimalField(max_digits=10, decimal_places=1, min_value=Decimal("0.1"))
    width_cm = serializers.DecimalField(max_digits=10, decimal_places=1, min_value=Decimal("0.1"))
    height_cm = serializers.DecimalField(max_digits=10, decimal_places=1, min_value=Decimal("0.1"))


class RateSerializer(serializers.Serializer):
    service = serializers.CharField()
    amount = MoneyField()
    transit_days = serializers.IntegerField()


class RatesSerializer(serializers.Serializer):
    chargeable_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    rates = RateSerializer(many=True)


class RatesView(APIView):
    """What the carrier charges for a parcel between two hubs: its chargeable weight by the mode (the greater of
    actual and volumetric, rounded up as the mode's rule says) and the carrier's services for it."""

    @extend_schema(parameters=[RateQuerySerializer], responses=RatesSerializer)
    def get(self, request):
        query = RateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        chargeable, rates = shipping_rates(**query.validated_data)
        return Response(RatesSerializer({"chargeable_kg": chargeable, "rates": rates}).data)
