"""Scoped reads of consolidation: departures and consignments are their hubs' (officers of either end); parcels
are their order's seller's too."""

from django.db.models import QuerySet

from hubs.scoping import restrict, selector_for
from logistics.models import Consignment, Departure, Parcel, Shipment, ShipmentDocument, TrackingEvent


@selector_for(Departure)
def departures_for(actor) -> QuerySet[Departure]:
    return restrict(Departure.objects.select_related("origin_hub", "destination_hub", "unit_type"), actor)


@selector_for(Consignment)
def consignments_for(actor) -> QuerySet[Consignment]:
    return restrict(Consignment.objects.select_related("departure__unit_type"), actor)


@selector_for(Parcel)
def parcels_for(actor) -> QuerySet[Parcel]:
    return restrict(Parcel.objects.select_related("order", "consignment__departure"), actor)


@selector_for(Shipment)
def shipments_for(actor) -> QuerySet[Shipment]:
    """Shipments with their tracking timelines: their sellers' and their hubs'."""
    return restrict(Shipment.objects.select_related("order").prefetch_related("tracking"), actor)


@selector_for(TrackingEvent)
def tracking_events_for(actor) -> QuerySet[TrackingEvent]:
    return restrict(TrackingEvent.objects.select_related("shipment"), actor)


@selector_for(ShipmentDocument)
def shipment_documents_for(actor) -> QuerySet[ShipmentDocument]:
    return restrict(ShipmentDocument.objects.defer("content"), actor)
