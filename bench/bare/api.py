from rest_framework import mixins, routers, serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from bench.bare.models import Item


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "sku", "title", "quantity", "unit_price", "created_at"]
        read_only_fields = ["id", "created_at"]


class FiftyPerPage(PageNumberPagination):
    page_size = 50


class ItemViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The floor: DRF's own create and paginated list, with no authentication, throttling, scoping or
    business rule, so that the platform's figures read as a multiple of what DRF alone costs here."""

    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    pagination_class = FiftyPerPage
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    filter_backends = []


router = routers.SimpleRouter()
router.register("items", ItemViewSet, basename="bare-item")
