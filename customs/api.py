"""Customs in the API: declarations (read), the seller's answer to a hold with documents (multipart), and the
hub-to-hub pre-arrival endpoint (signed by the sending hub, outside the partners' API)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from customs.exchange import pre_arrival_receive
from customs.models import Declaration, DeclarationDocument
from customs.selectors import declarations_for
from customs.services import declaration_answer
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
            "filed_at",
            "decided_at",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), help_text="PDF, PNG or JPEG files.")
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class DeclarationViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Orders' customs declarations at export and import: their lane, status and what a hold asks for."""

    selector = staticmethod(declarations_for)
    serializer_class = DeclarationSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status", "direction", "lane"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("documents")

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
