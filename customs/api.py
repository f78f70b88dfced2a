"""Customs in the API: declarations (read) with their PDFs (the declaration and its order's commercial invoice),
and the seller's answer to a hold with documents (multipart); summary declarations of CBEC exports (read); export
VAT refund claims (read), filed by their seller; and the hub-to-hub pre-arrival endpoint (signed by the sending hub,
outside the partners' API)."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from customs.documents import document_download, summary_download
from customs.exchange import pre_arrival_receive
from customs.models import Declaration, DeclarationDocument, RefundClaim, SummaryDeclaration, Taxpayer
from customs.selectors import declarations_for, refund_claims_for, summary_declarations_for, with_exports
from customs.services import declaration_answer, refund_claim_file
from hubs.kernel.api import MoneyField, TenantViewSet
from hubs.scoping import actor_for_request
from hubs.throttling import AddressRateThrottle


class DeclarationDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeclarationDocument
        fields = ["name", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


class DeclarationSerializer(serializers.ModelSerializer):
    """A declaration as its seller and hubs see it: its lane, not the risk rules that chose it."""

    id = serializers.CharField(source="public_id", read_only=True)
    order = serializers.CharField(source="order.public_id", read_only=True)
    hub = serializers.CharField(source="hub.code", read_only=True)
    value = MoneyField(read_only=True)
    duties_and_taxes = MoneyField(read_only=True)
    documents = DeclarationDocumentSerializer(many=True, read_only=True)
    summary = serializers.CharField(
        source="summary.public_id", default=None, read_only=True, help_text="The summary declaration it is in."
    )

    class Meta:
        model = Declaration
        fields = [
            "id",
            "order",
            "direction",
            "hub",
            "procedure",
            "parts",
            "status",
            "lane",
            "value",
            "duties_and_taxes",
            "parties",
            "lines",
            "mismatches",
            "documents_requested",
            "documents",
            "summary",
            "filed_at",
            "decided_at",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), help_text="PDF, PNG or JPEG files.")
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class DeclarationFilter(django_filters.FilterSet):
    summary = django_filters.CharFilter(field_name="summary__public_id", help_text="A summary declaration's id.")

    class Meta:
        model = Declaration
        fields = ["status", "direction", "lane"]


class DeclarationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Orders' customs declarations at export and import: their lane, status and what a hold asks for."""

    selector = staticmethod(declarations_for)
    serializer_class = DeclarationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = DeclarationFilter

    def get_queryset(self):
        return super().get_queryset().select_related("summary").prefetch_related("documents")

    @extend_schema(request=AnswerSerializer, responses={200: DeclarationSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def answer(self, request, *args, **kwargs):
        """The seller answers a hold with documents: the declaration goes back to the officers."""
        declaration = self.get_object()  # another's declaration answers 404 whatever was sent
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        declaration = declaration_answer(
            actor=actor_for_request(request),
            declaration=declaration,
            files=data.validated_data["files"],
            note=data.validated_data["note"],
        )
        return self.retrieve(request, id=declaration.public_id)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="declaration-pdf")
    def declaration_pdf(self, request, *args, **kwargs):
        """The declaration as a PDF, labelled in English and the language of its hub's country."""
        return document_download(self.get_object(), "declaration")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="invoice-pdf")
    def invoice_pdf(self, request, *args, **kwargs):
        """The order's commercial invoice as a PDF, labelled for the declaration's hub."""
        return document_download(self.get_object(), "invoice")


class SummaryLineSerializer(serializers.Serializer):
    hs_code = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=True)
    orders = serializers.IntegerField(help_text="How many of its exports carry the code.")


class SummaryDeclarationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    hub = serializers.CharField(source="hub.code", read_only=True)
    month = serializers.DateField(read_only=True, format="%Y-%m", help_text="The month of its exports' release.")
    destination_country = serializers.CharField(read_only=True)
    lines = SummaryLineSerializer(many=True, read_only=True)
    value = MoneyField(read_only=True)
    exports = serializers.IntegerField(
        read_only=True,
        help_text="How many export declarations it sums up: `GET /declarations/?summary=<id>` lists them.",
    )

    class Meta:
        model = SummaryDeclaration
        fields = [
            "id",
            "hub",
            "month",
            "destination_country",
            "status",
            "value",
            "lines",
            "exports",
            "filed_at",
            "decided_at",
        ]
        read_only_fields = fields


class SummaryDeclarationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """CBEC direct-mail exports declared in summary: one per seller, hub, month, destination country and currency,
    each export's declaration in one."""

    selector = staticmethod(summary_declarations_for)
    serializer_class = SummaryDeclarationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status"]

    def get_queryset(self):
        return with_exports(super().get_queryset())

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path="summary-pdf")
    def summary_pdf(self, request, *args, **kwargs):
        """The summary declaration as a PDF, labelled in English and the language of its hub's country."""
        return summary_download(self.get_object())


class RefundClaimSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    order = serializers.CharField(source="order.public_id", read_only=True)
    hub = serializers.CharField(source="hub.code", read_only=True)
    amount = MoneyField(read_only=True)
    uncredited_input_vat = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = RefundClaim
        fields = [
            "id",
            "order",
            "hub",
            "export_date",
            "rule_set_version",
            "lines",
            "taxpayer",
            "uncredited_input_vat",
            "amount",
            "explanation",
            "status",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class RefundFilingSerializer(serializers.Serializer):
    taxpayer = serializers.ChoiceField(choices=Taxpayer.choices, default=Taxpayer.TRADING)
    uncredited_input_vat = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )


class RefundClaimViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Export VAT refund claims: computed where the origin hub grants one, filed by the seller, decided by the hub."""

    selector = staticmethod(refund_claims_for)
    serializer_class = RefundClaimSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status"]

    @extend_schema(request=RefundFilingSerializer, responses={200: RefundClaimSerializer})
    @action(detail=True, methods=["post"], url_path="file")
    def file(self, request, *args, **kwargs):
        """File the claim, as a trading company or as a manufacturer with its uncredited input VAT."""
        claim = self.get_object()
        data = RefundFilingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = refund_claim_file(actor=actor_for_request(request), claim=claim, **data.validated_data)
        return Response(self.get_serializer(claim).data)


class PreArrivalView(APIView):
    """A hub's pre-arrival message to another (`Hub-Key` names the pair's key, `Hub-Signature` signs the body), for
    a transport over HTTP: applied once, in the pair's order. A replay answers `applied: false` and changes nothing;
    a refusal answers 400 with its code (a gap's message is sent again by its origin)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AddressRateThrottle]

    @extend_schema(exclude=True)  # between hubs, not the partners' API
    def post(self, request):
        message, applied = pre_arrival_receive(headers=request.headers, body=request.body)
        return Response({"message": message.public_id, "sequence": message.sequence, "applied": applied})
