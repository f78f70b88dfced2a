from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.authentication import ApiKeyAuthentication
from hubs.fx import fx_rate_on
from hubs.kernel.api import BaseViewSet, TenantViewSet
from hubs.kernel.errors import DomainError
from hubs.models import ApiKey, Company, HSCode, Hub, Membership, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from hubs.partner_webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    webhook_delivery_retry,
    webhook_endpoint_add,
    webhook_endpoint_deactivate,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_test,
)
from hubs.scoping import actor_for_request
from hubs.selectors import (
    companies_for,
    hs_code_validate,
    hs_codes_search,
    hubs_directory,
    webhook_deliveries_for,
    webhook_endpoints_for,
)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: the key shown once when it was issued.",
        }


class HubSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code")

    class Meta:
        model = Hub
        fields = ["code", "name", "country", "currency", "timezone"]


class CompanySerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code")
    home_hub = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Company
        fields = ["id", "legal_name", "country", "home_hub", "registration_number", "home_currency", "verified"]


class MembershipSerializer(serializers.ModelSerializer):
    company = CompanySerializer(allow_null=True, help_text="The company of a seller's or a company integrator's role.")
    hub = HubSerializer(
        allow_null=True, help_text="The hub of an officer's, a supervisor's or a hub integrator's role."
    )

    class Meta:
        model = Membership
        fields = ["role", "company", "hub"]


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["name", "prefix", "created", "expiry_date"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    api_key = ApiKeySerializer(allow_null=True)
    memberships = MembershipSerializer(many=True)


class MeView(APIView):
    """Who the request acts as: the user, the API key if one is used, and the memberships in force."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(actor_for_request(request)).data)


class HubViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The directory of active hubs, looked up by code (`HGH`)."""

    serializer_class = HubSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self):
        return hubs_directory()


class CompanyViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The companies the actor may see: its own, or those registered at the hub it serves."""

    selector = staticmethod(companies_for)
    serializer_class = CompanySerializer
    filterset_fields = ["verified", "home_hub__code"]


class HSCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = HSCode
        fields = ["code", "description", "level", "parent", "section"]


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("q", str, description="Code prefix (`3304`) or words (`lipstick`)")]
    )
)
class HSCodeViewSet(BaseViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The Harmonized System 2022: search by code prefix or by words of the description."""

    serializer_class = HSCodeSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{2}|\d{4}|\d{6}"

    def get_queryset(self):
        return hs_codes_search(self.request.query_params.get("q"))

    @extend_schema(
        parameters=[OpenApiParameter("code", str, required=True, description="6-digit subheading or 8-10 digit code")],
        responses=inline_serializer(
            "HSCodeValidation", {"code": serializers.CharField(), "subheading": HSCodeSerializer()}
        ),
    )
    @action(detail=False)
    def validate(self, request):
        """Check a goods code: a 6-digit subheading that exists, or a national 8–10 digit code extending one."""
        code, subheading = hs_code_validate(request.query_params.get("code", ""), attr="code")
        return Response({"code": code, "subheading": HSCodeSerializer(subheading).data})


class FxRateQuerySerializer(serializers.Serializer):
    base = serializers.CharField(min_length=3, max_length=3, help_text="The currency converted from, e.g. MYR.")
    quote = serializers.CharField(min_length=3, max_length=3, help_text="The currency converted into, e.g. CNY.")
    date = serializers.DateField(required=False, help_text="The day of the conversion; today (UTC) when left out.")


class FxSnapshotSerializer(serializers.Serializer):
    source = serializers.CharField()
    base = serializers.CharField()
    quote = serializers.CharField()
    rate = serializers.DecimalField(max_digits=24, decimal_places=10)
    rate_date = serializers.DateField()
    published_at = serializers.DateTimeField()


class FxRateSerializer(serializers.Serializer):
    base = serializers.CharField()
    quote = serializers.CharField()
    date = serializers.DateField()
    rate = serializers.CharField(help_text="Unrounded: 1 base unit in the quote currency.")
    rate_date = serializers.DateField(allow_null=True, help_text="The date of the oldest rate it is made of.")
    source = serializers.CharField(help_text="Where it comes from, e.g. `ECB 2026-10-30, via EUR`.")
    snapshots = FxSnapshotSerializer(many=True)


class FxRateView(APIView):
    """The reference rate the platform would use for a conversion on a date, and where it comes from,
    so that an integrator shows its buyer the same figure as the quote."""

    @extend_schema(parameters=[FxRateQuerySerializer], responses=FxRateSerializer)
    def get(self, request):
        query = FxRateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        base, quote = query.validated_data["base"].upper(), query.validated_data["quote"].upper()
        on = query.validated_data.get("date") or timezone.now().date()
        rate = fx_rate_on(base, quote, on)
        answer = {
            "base": base,
            "quote": quote,
            "date": on,
            "rate": str(rate.rate),
            "rate_date": rate.rate_date,
            "source": rate.provenance,
            "snapshots": rate.snapshots,
        }
        return Response(FxRateSerializer(answer).data)


# --- partner webhooks (`hubs.partner_webhooks`) -------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    company = serializers.PrimaryKeyRelatedField(read_only=True)
    event_types = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The event types sent; empty: all of them."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "company", "url", "description", "event_types", "active", "created_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=f"Shown this once: the partner checks `{SIGNATURE_HEADER}` (`t=<unix>,v1=<HMAC-SHA256 of "
        f'"<t>.<body>">`) with it; while a secret rotates, the header carries one `v1` per secret in force, and '
        f"the event is genuine when one of them matches.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointSecretSerializer(WebhookEndpointCreatedSerializer):
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Until when events are signed with the previous secret too (a second `v1`); null: not at all.",
    )

    class Meta(WebhookEndpointCreatedSerializer.Meta):
        fields = [*WebhookEndpointCreatedSerializer.Meta.fields, "previous_secret_expires_at"]


class RotateSecretSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)
    leaked = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The current secret leaked: it stops signing at once, with no grace (`previous_secret_expires_at` "
        "is null).",
    )


class WebhookEndpointInputSerializer(serializers.Serializer):
    company = serializers.IntegerField(required=False, help_text="The company it is for, when you act for several.")
    url = serializers.CharField(max_length=500, help_text="An http(s) address that answers 2xx once it has an event.")
    description = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        default=list,
        help_text="Event types to send (`order.paid`, `order.delivered`, ...); empty or left out: all of them.",
    )


class DeactivateSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)


# The body of a webhook: `data` holds an order's move, or what a test event says (`from` is a keyword in Python).
WebhookEventDataSerializer = type(
    "WebhookEventDataSerializer",
    (serializers.Serializer,),
    {
        "order_ref": serializers.CharField(required=False, help_text="The order that moved (`ORD-…`)."),
        "from": serializers.CharField(required=False, allow_null=True, help_text="Its state before; null: placed."),
        "to": serializers.CharField(required=False, help_text="Its state now."),
        "reason": serializers.CharField(required=False, allow_blank=True),
        "actor": serializers.CharField(help_text="Who moved it: a user, an API key, or `system`."),
        "endpoint": serializers.CharField(required=False, help_text="A test event: the endpoint it tests."),
        "message": serializers.CharField(required=False, help_text="A test event: what it says."),
    },
)


class WebhookEventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text=f"The event id, also sent as `{EVENT_ID_HEADER}`: the same on every attempt.")
    type = serializers.CharField(help_text="`order.<state>`, or `webhook.test`.")
    created = serializers.DateTimeField()
    data = WebhookEventDataSerializer()


class WebhookAttemptSerializer(serializers.ModelSerializer):
    outcome = serializers.CharField(read_only=True)

    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "status_code", "error", "duration_ms", "outcome"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True, help_text="The event id.")
    endpoint = serializers.CharField(source="endpoint.public_id", read_only=True)
    type = serializers.CharField(source="event_type", read_only=True)
    payload = WebhookEventSerializer(read_only=True, help_text="The body sent, the same on every attempt.")
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
            "attempts",
        ]


class WebhookEndpointViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Where a company's partner is sent every state change of the company's orders. A company's seller admin
    adds, deactivates, tests them and rotates their secrets; a secret is shown once, when it is drawn."""

    selector = staticmethod(webhook_endpoints_for)
    serializer_class = WebhookEndpointSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["active"]

    @extend_schema(request=WebhookEndpointInputSerializer, responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        actor = actor_for_request(request)
        company = actor.acting_company(values.pop("company", None))
        if company is None:
            raise DomainError(
                "Name the company you act for (`company`): you act for none or several.", code="company", attr="company"
            )
        endpoint = webhook_endpoint_add(actor=actor, company=company, **values)
        return Response(WebhookEndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DeactivateSerializer, responses=WebhookEndpointSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, id=None):
        """Stop sending events to the endpoint, for good."""
        data = DeactivateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = actor_for_request(request)
        endpoint = webhook_endpoint_deactivate(actor=actor, endpoint=self.get_object(), **data.validated_data)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(request=RotateSecretSerializer, responses=WebhookEndpointSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, id=None):
        """Draw the endpoint a new secret, shown in this answer only. Until `previous_secret_expires_at` events are
        signed with the previous secret too (one `v1` each), so that the partner switches without refusing one."""
        endpoint = self.get_object()  # another tenant's endpoint answers 404 before its body is read
        data = RotateSecretSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = actor_for_request(request)
        endpoint = webhook_endpoint_secret_rotate(actor=actor, endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, id=None):
        """Send the endpoint a test event (`webhook.test`); its delivery is logged like any other."""
        actor = actor_for_request(request)
        delivery = webhook_endpoint_test(actor=actor, endpoint=self.get_object())
        delivery = webhook_deliveries_for(actor).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The webhooks sent to a company's endpoints, newest first, each with its attempts; a failed one is sent again
    on request."""

    selector = staticmethod(webhook_deliveries_for)
    serializer_class = WebhookDeliverySerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status", "event_type", "endpoint__public_id"]

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, id=None):
        """Send a failed delivery again now, the same event (given up, or waiting out a back-off after a failed
        attempt): a worker sends it; its attempts show how it went. A delivered one is refused (`not_retryable`)."""
        actor = actor_for_request(request)
        delivery = webhook_delivery_retry(actor=actor, delivery=self.get_object())
        delivery = webhook_deliveries_for(actor).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
