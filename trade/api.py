from decimal import Decimal

import django_filters
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from hubs.kernel.api import MoneyField, Prebuilt, TenantViewSet, money_representation
from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for_request, restrict
from hubs.selectors import hub_by_code, hubs_directory
from hubs.tariff import Admissibility, ExportRegime, TaxKind
from trade.filters import OrderFilter
from trade.models import BuyerKind, Listing, ListingStatus, Order, Quote, Unit
from trade.selectors import (
    listings_for,
    listings_matching,
    order_summaries_for,
    order_timeline,
    orders_for,
    quotes_for,
    sellability,
)
from trade.services import (
    QuoteLineRequest,
    listing_archive,
    listing_create,
    listing_restock,
    listing_update,
    order_cancel,
    order_place,
    quote_create,
)


def _acting_company(request, company_id):
    try:
        company = actor_for_request(request).acting_company(company_id)
    except (TypeError, ValueError):
        company = None
    if company is None:
        raise DomainError(
            "Name the company you act for (`company`): you act for none or several.", code="company", attr="company"
        )
    return company


# --- listings -------------------------------------------------------------------------------------------


class SellabilitySerializer(serializers.Serializer):
    """Whether customs lets a listing into a hub, whether it can be quoted there now, and why not."""

    hub = serializers.CharField(help_text="The destination hub's code.")
    verdict = serializers.ChoiceField(choices=Admissibility.choices, help_text="What the hub's customs rules say.")
    label = serializers.CharField(help_text="The verdict as a person reads it, or `Not quotable`.")
    reason = serializers.CharField(help_text="Why it is refused or not quotable; empty when it is quotable.")
    quotable = serializers.BooleanField(help_text="Whether a quote into the hub can be made now.")


class ListingSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    company = serializers.PrimaryKeyRelatedField(read_only=True)
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_price = MoneyField()
    status = serializers.ChoiceField(
        choices=ListingStatus.choices,
        default=ListingStatus.DRAFT,
        help_text="draft or active; archive with the archive action",
    )
    sellable = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = ["id", "company", "hub", *Listing.EDITABLE_FIELDS, "sellable", "created_at", "updated_at"]
        extra_kwargs = {"stock": {"min_value": 0, "max_value": Listing.MAX_STOCK}}

    @extend_schema_field(SellabilitySerializer(many=True))
    def get_sellable(self, listing) -> list[dict]:
        """Per destination hub: allowed, permit_required, not_on_positive_list or prohibited, the reason, and
        whether it can be quoted there now (`quotable`)."""
        return self.context["sellability"].get(listing.pk, [])

    def to_representation(self, instance):
        if "sellability" not in self.context:
            self.context["sellability"] = sellability([instance])
        return super().to_representation(instance)


class ListingCreateSerializer(ListingSerializer):
    company = serializers.IntegerField(
        required=False, write_only=True, help_text="The company you act for, if several."
    )


class RestockSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-Listing.MAX_STOCK,
        max_value=Listing.MAX_STOCK,
        help_text="Units added to the stock as it is when the request runs; below zero, units taken off.",
    )


class ListingFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Words of the title or description, an HS prefix or an id")

    class Meta:
        model = Listing
        fields = ["status", "hs_code"]

    def search(self, queryset, name, value):
        return listings_matching(queryset, value)


class ListingViewSet(
    TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin
):
    """An SME's goods: create, edit, archive and search; each shows where it can be sold and why not."""

    selector = staticmethod(listings_for)
    serializer_class = ListingSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = ListingFilter

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(), "sellability": sellability(page)}
        return self.get_paginated_response(self.get_serializer(page, many=True, context=context).data)

    @extend_schema(request=ListingCreateSerializer, responses={201: ListingSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ListingCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        company = _acting_company(request, values.pop("company", None))
        listing = listing_create(actor=actor_for_request(request), company=company, **values)
        return Response(self.get_serializer(listing).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        listing = listing_update(
            actor=actor_for_request(request), listing=serializer.instance, **serializer.validated_data
        )
        return Response(self.get_serializer(listing).data)

    @extend_schema(request=None, responses=ListingSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, id=None):
        listing = listing_archive(actor=actor_for_request(request), listing=self.get_object())
        return Response(self.get_serializer(listing).data)

    @extend_schema(request=RestockSerializer, responses=ListingSerializer)
    @action(detail=True, methods=["post"])
    def restock(self, request, id=None):
        """Add units to the stock as it is now (take some off with a negative delta), never below zero.
        An update refuses to change the stock (`stock_read_only`): orders change it at any moment."""
        listing = self.get_object()  # another tenant's listing answers 404 before its body is read
        data = RestockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_restock(actor=actor_for_request(request), listing=listing, delta=data.validated_data["delta"])
        return Response(self.get_serializer(listing).data)


# --- quotes ---------------------------------------------------------------------------------------------


class MeasureSerializer(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=Decimal("0.001"))
    unit = serializers.ChoiceField(choices=Unit.choices)


class QuoteLineInputSerializer(serializers.Serializer):
    """A listing of yours (`listing`, `quantity`) or ad-hoc goods (`hs_code`, `unit_price`, ...)."""

    listing = serializers.CharField(required=False)
    hs_code = serializers.CharField(required=False, max_length=16)
    description = serializers.CharField(required=False, max_length=200, default="", allow_blank=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = MoneyField(required=False)
    unit_measure = MeasureSerializer(required=False)

    def validate(self, attrs):
        if "listing" in attrs:
            extra = {"hs_code", "unit_price", "unit_measure"} & set(attrs)
            if extra:
                raise serializers.ValidationError(f"A listing line takes no {', '.join(sorted(extra))}.")
        elif not {"hs_code", "unit_price"} <= set(attrs):
            raise serializers.ValidationError("Give either `listing`, or `hs_code` and `unit_price`.")
        return attrs


class HubCodeField(serializers.SlugRelatedField):
    """An active hub by its code (HGH), from the process's copy of the hubs rather than a query."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=hubs_directory(), **kwargs)

    def to_internal_value(self, data):
        hub = hub_by_code(str(data))
        if hub is None:
            self.fail("does_not_exist", slug_name="code", value=data)
        return hub


class QuoteInputSerializer(serializers.Serializer):
    company = serializers.IntegerField(required=False, help_text="The company you act for, if several.")
    origin_hub = HubCodeField()
    destination_hub = HubCodeField()
    consumer_id = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=40,
        help_text="The consumer's ID number: needed for CBEC retail.",
    )
    lines = QuoteLineInputSerializer(many=True, min_length=1, max_length=200)
    freight = MoneyField(required=False)
    insurance = MoneyField(required=False)
    export_regime = serializers.ChoiceField(
        choices=ExportRegime.choices, required=False, help_text="At a Chinese origin: cbec_export (default)."
    )


class TaxSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaxKind.choices)
    rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    base = MoneyField()
    amount = MoneyField()
    explanation = serializers.CharField()

    def to_representation(self, tax):
        currency = self.context["currency"]
        return {
            "kind": tax["kind"],
            "rate": tax["rate"],
            "base": {"amount": tax["base"], "currency": currency},
            "amount": {"amount": tax["amount"], "currency": currency},
            "explanation": tax["explanation"],
        }


class LineSerializer(serializers.Serializer):
    listing = serializers.CharField(source="listing.public_id", allow_null=True, default=None)
    hs_code = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    unit_measure = serializers.SerializerMethodField()
    value = MoneyField()
    freight_share = MoneyField()
    taxes = serializers.SerializerMethodField()
    taxes_total = MoneyField()

    @extend_schema_field(MeasureSerializer)
    def get_unit_measure(self, line) -> dict:
        return {"quantity": f"{line.measure_quantity.normalize():f}", "unit": line.measure_unit}

    @extend_schema_field(TaxSerializer(many=True))
    def get_taxes(self, line) -> list[dict]:
        return TaxSerializer(line.taxes, many=True, context={"currency": line.value.currency.code}).data


class TotalsSerializer(serializers.Serializer):
    goods = MoneyField()
    freight = MoneyField()
    insurance = MoneyField()
    duties_and_taxes = MoneyField()
    total = MoneyField()


TOTALS = tuple(TotalsSerializer().fields)


class ExportSerializer(serializers.Serializer):
    """The seller's side at the origin hub: an estimate, not part of what the buyer pays."""

    regime = serializers.CharField(source="export_regime")
    refund = MoneyField(source="export_refund", allow_null=True)
    declarations = serializers.IntegerField(source="export_declarations", allow_null=True)
    explanation = serializers.CharField(source="export_explanation")


class ConversionSerializer(serializers.Serializer):
    """One figure converted into another currency, with the rate in force and its provenance."""

    figure = serializers.CharField(help_text="What was converted: `lines.0.unit_price`, `freight`, ...")
    from_currency = serializers.CharField(source="from")
    to_currency = serializers.CharField(source="to")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    converted = serializers.DecimalField(max_digits=16, decimal_places=2)
    rate = serializers.CharField(help_text="Unrounded: 1 from-currency unit in the to-currency.")
    rate_date = serializers.DateField()
    source = serializers.CharField(help_text="Where the rate comes from, e.g. `ECB 2026-10-30, via EUR`.")
    explanation = serializers.CharField()


class RuleSetRefSerializer(serializers.Serializer):
    """The version of a hub's duty and tax rules that a quote applied."""

    hub = serializers.CharField()
    version = serializers.IntegerField()


class QuoteSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    company = serializers.PrimaryKeyRelatedField(read_only=True)
    origin_hub = serializers.CharField(source="origin_hub.code")
    destination_hub = serializers.CharField(source="destination_hub.code")
    rule_set = serializers.SerializerMethodField()
    consumer = serializers.CharField(source="consumer_masked")
    lines = LineSerializer(many=True)
    totals = TotalsSerializer(source="*")
    export = ExportSerializer(source="*")
    conversions = ConversionSerializer(many=True)

    class Meta:
        model = Quote
        fields = [
            "id",
            "company",
            "origin_hub",
            "destination_hub",
            "consumer",
            "regime",
            "explanation",
            "rule_set",
            "lines",
            "totals",
            "export",
            "conversions",
            "expires_at",
            "created_at",
        ]

    @extend_schema_field(RuleSetRefSerializer)
    def get_rule_set(self, quote) -> dict:
        return {"hub": quote.rule_set.hub.code, "version": quote.rule_set.version}


class QuoteViewSet(TenantViewSet, mixins.RetrieveModelMixin, mixins.ListModelMixin):
    """Binding landed-cost quotes: the destination hub's duties and taxes on a basket, held until they expire."""

    selector = staticmethod(quotes_for)
    serializer_class = QuoteSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    @extend_schema(request=QuoteInputSerializer, responses={201: QuoteSerializer})
    def create(self, request, *args, **kwargs):
        values = QUOTE_INPUT.validate(request.data)
        actor = actor_for_request(request)
        quote = quote_create(
            actor=actor,
            company=_acting_company(request, values.get("company")),
            origin_hub=values["origin_hub"],
            destination_hub=values["destination_hub"],
            consumer_id=values["consumer_id"],
            lines=_line_requests(actor, values["lines"]),
            freight=values.get("freight"),
            insurance=values.get("insurance"),
            export_regime=values.get("export_regime"),
        )
        # Answered from the quote as written, its lines and their listings in memory: nothing is read back.
        return Response(QUOTE_ANSWER.represent(quote), status=status.HTTP_201_CREATED)


# The hot path's bodies and answers, with serializers built once (`Prebuilt`).
QUOTE_INPUT, QUOTE_ANSWER = Prebuilt(QuoteInputSerializer), Prebuilt(QuoteSerializer)


def _line_requests(actor, lines):
    """The quote's lines, with their listings fetched in one query among those the actor may see."""
    wanted = {line["listing"] for line in lines if "listing" in line}
    listings = listings_for(actor).select_related(None).filter(public_id__in=wanted)
    listings = {listing.public_id: listing for listing in listings}
    requests = []
    for i, line in enumerate(lines):
        if "listing" in line:
            if line["listing"] not in listings:
                raise DomainError(f"No listing {line['listing']}.", code="not_found", attr=f"lines.{i}.listing")
            requests.append(QuoteLineRequest(quantity=line["quantity"], listing=listings[line["listing"]]))
        else:
            measure = line.get("unit_measure", {"quantity": 1, "unit": Unit.PIECE})
            requests.append(
                QuoteLineRequest(
                    quantity=line["quantity"],
                    hs_code=line["hs_code"],
                    description=line["description"],
                    unit_price=line["unit_price"],
                    measure_quantity=measure["quantity"],
                    measure_unit=measure["unit"],
                )
            )
    return requests


# --- orders ---------------------------------------------------------------------------------------------


class BuyerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BuyerKind.choices)
    name = serializers.CharField(max_length=200)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=40, write_only=True)
    id_number_masked = serializers.CharField(read_only=True)
    registration_number = serializers.CharField(required=False, max_length=64)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, max_length=40)
    address_line1 = serializers.CharField(max_length=200)
    address_line2 = serializers.CharField(required=False, max_length=200)
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(required=False, max_length=20)
    country = CountryField()


class OrderInputSerializer(serializers.Serializer):
    quote = serializers.CharField(help_text="The id of a quote of yours that has not expired.")
    buyer = BuyerSerializer()


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    verb = serializers.CharField()
    sentence = serializers.CharField(help_text="The event as a person reads it.")
    reason = serializers.CharField()


class OrderFieldsSerializer(serializers.ModelSerializer):
    """What an order says of itself in the list and on its own page alike."""

    id = serializers.CharField(source="public_id")
    company = serializers.PrimaryKeyRelatedField(read_only=True)
    quote = serializers.CharField(source="quote.public_id")
    origin_hub = serializers.CharField(source="origin_hub.code")
    destination_hub = serializers.CharField(source="destination_hub.code")
    totals = TotalsSerializer(source="*")

    class Meta:
        model = Order
        fields = ["id", "company", "status", "regime", "quote", "origin_hub", "destination_hub", "totals", "placed_at"]


class OrderSerializer(OrderFieldsSerializer):
    buyer = BuyerSerializer()
    lines = LineSerializer(many=True)

    class Meta(OrderFieldsSerializer.Meta):
        fields = [*OrderFieldsSerializer.Meta.fields[:7], "buyer", "lines", "totals", "placed_at"]


class OrderDetailSerializer(OrderSerializer):
    timeline = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "timeline"]

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, order) -> list[dict]:
        # An order just placed carries the events it recorded (`order_place`): they are its whole timeline.
        events = getattr(order, "recorded_events", None)
        return TimelineEventSerializer(order_timeline(order) if events is None else events, many=True).data


class OrderSummarySerializer(OrderFieldsSerializer):
    """An order in the list: its own columns and the names it points to; its buyer, lines and timeline are on
    the order itself (`GET /api/v1/orders/{id}/`)."""

    buyer_name = serializers.CharField(source="buyer.name")

    class Meta(OrderFieldsSerializer.Meta):
        fields = [*OrderFieldsSerializer.Meta.fields[:7], "buyer_name", "totals", "placed_at"]

    def to_representation(self, order):
        # The list's loop: the fields above written out by hand, several times faster than field objects
        # (tests/trade/test_hot_path.py checks that both give the same answer).
        return {
            "id": order.public_id,
            "company": order.company_id,
            "status": order.status,
            "regime": order.regime,
            "quote": order.quote.public_id,
            "origin_hub": order.origin_hub.code,
            "destination_hub": order.destination_hub.code,
            "buyer_name": order.buyer.name,
            "totals": {name: money_representation(getattr(order, name)) for name in TOTALS},
            "placed_at": self.fields["placed_at"].to_representation(order.placed_at),
        }


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


class OrderViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Cross-border orders placed from quotes: list, retrieve with their timeline, cancel."""

    selector = staticmethod(orders_for)
    serializer_class = OrderDetailSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = OrderFilter

    def get_queryset(self):
        if self.action != "list":
            return super().get_queryset()
        actor = actor_for_request(self.request)
        return restrict(order_summaries_for(actor), actor)

    def get_serializer_class(self):
        return OrderSummarySerializer if self.action == "list" else OrderDetailSerializer

    @extend_schema(request=OrderInputSerializer, responses={201: OrderDetailSerializer})
    def create(self, request, *args, **kwargs):
        values = ORDER_INPUT.validate(request.data)
        actor = actor_for_request(request)
        # The quote is only found here: `order_place` reads it again, locked, with what it needs.
        quote = quotes_for(actor).select_related(None).prefetch_related(None).only("pk")
        quote = quote.filter(public_id=values["quote"]).first()
        if quote is None:
            raise DomainError(f"No quote {values['quote']}.", code="not_found", attr="quote")
        order = order_place(actor=actor, quote=quote, buyer=values["buyer"])
        # Answered from the order as written (its lines, buyer and event in memory): nothing is read back.
        return Response(ORDER_ANSWER.represent(order), status=status.HTTP_201_CREATED)

    @extend_schema(request=CancelSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, id=None):
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_cancel(actor=actor_for_request(request), order=self.get_object(), **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)


ORDER_INPUT, ORDER_ANSWER = Prebuilt(OrderInputSerializer), Prebuilt(OrderDetailSerializer)
