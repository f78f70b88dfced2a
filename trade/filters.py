import django_filters

from hubs.kernel.filters import IsoDateTimeFilter
from trade.models import Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    # A status joins nothing: no DISTINCT, so that a list is read in its index's order.
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, distinct=False)
    origin_hub = django_filters.CharFilter(field_name="origin_hub__code")
    destination_hub = django_filters.CharFilter(field_name="destination_hub__code")
    placed_after = IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    buyer = django_filters.CharFilter(field_name="buyer__name", lookup_expr="icontains")

    class Meta:
        model = Order
        fields = ["status", "origin_hub", "destination_hub", "placed_after", "placed_before", "buyer"]
