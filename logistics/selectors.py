"""Scoped reads of consolidation: departures and consignments are their hubs' (officers of either end); parcels
are their order's seller's too."""

from django.db.models import QuerySet

from hubs.scoping import restrict, selector_for
from logistics.models import Consignment, Departure, Parcel


@selector_for(Departure)
def departures_for(actor) -> QuerySet[Departure]:
    return restrict(Departure.objects.select_related("origin_hub", "destination_hub", "unit_type"), actor)


@selector_for(Consignment)
def consignments_for(actor) -> QuerySet[Consignment]:
    return restrict(Consignment.objects.select_related("departure__unit_type"), actor)


@selector_for(Parcel)
def parcels_for(actor) -> QuerySet[Parcel]:
    return restrict(Parcel.objects.select_related("order", "consignment__departure"), actor)
