"""Payments in the API: pay an order, read payments; and the payment provider's webhook."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from hubs.kernel.api import MoneyField, TenantViewSet
from hubs.kernel.errors import DomainError
from hubs.kernel.webhooks import SignedWebhookView
from hubs.scoping import actor_for_request
from payments.models import Account, Payment, Payout, Posting, Tranche
from payments.providers import Charge, payment_provider
from payments.selectors import accounts_for, payments_for, payouts_for, postings_for
from payments.services import payment_settle, payment_start
from trade.selectors import orders_for


class PaymentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    order = serializers.CharField(source="order.public_id", read_only=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = Payment
        fields = ["id", "order", "amount", "payer_name", "status", "method", "provider", "decline_reason", "created_at"]
        read_only_fields = fields


class PaymentInputSerializer(serializers.Serializer):
    order = serializers.CharField(help_text="The id of a placed order of yours.")
    method = serializers.CharField(max_length=64, help_text="The provider's token of the buyer's payment method.")
    payer_name = serializers.CharField(
        max_length=200, required=False, default="", help_text="Who pays, when not the buyer (customs checks it)."
    )


class PaymentViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The buyers' payments of orders: captured into escrow, declined, or awaiting the provider."""

    selector = staticmethod(payments_for)
    serializer_class = PaymentSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status"]

    @extend_schema(request=PaymentInputSerializer, responses={201: PaymentSerializer})
    def create(self, request, *args, **kwargs):
        """Charge the buyer the order's total. `status` says the outcome: `captured` (the order is paid),
        `declined` (with the reason), or `pending` (the provider confirms later)."""
        data = PaymentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actor = actor_for_request(request)
        order = orders_for(actor).filter(public_id=data.validated_data["order"]).first()
        if order is None:
            raise DomainError(f"No order {data.validated_data['order']}.", code="not_found", attr="order")
        payment = payment_start(
            actor=actor, order=order, method=data.validated_data["method"], payer_name=data.validated_data["payer_name"]
        )
        return Response(self.get_serializer(payment).data, status=status.HTTP_201_CREATED)


class ProviderEventSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, help_text="The provider's event id: an event is applied once.")
    type = serializers.ChoiceField(choices=["charge.succeeded", "charge.declined"])
    charge = serializers.CharField(max_length=100)
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=300)


class ProviderWebhookView(SignedWebhookView):
    """The payment provider confirms or declines a charge. Signed (`Provider-Signature`) under
    `PAYMENT_WEBHOOK_SECRETS`, refused outside a 5-minute window, applied once per event id."""

    signature_header = "Provider-Signature"
    event_serializer = ProviderEventSerializer

    def secrets(self):
        return settings.PAYMENT_WEBHOOK_SECRETS

    def scope(self):
        return f"webhook:{payment_provider().name}"

    def apply(self, event):
        payment = Payment.objects.filter(provider=payment_provider().name, provider_ref=event["charge"]).first()
        if payment is None:
            raise DomainError(f"No payment has the charge {event['charge']}.", code="unknown_charge", attr="charge")
        outcome = "succeeded" if event["type"] == "charge.succeeded" else "declined"
        payment = payment_settle(payment=payment, charge=Charge(event["charge"], outcome, event["reason"]))
        return {"payment": payment.public_id, "status": payment.status}


# --- payouts, balances and statements ---------------------------------------------------------------------


class TrancheSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True, help_text="What the seller receives from this transfer.")
    fee = MoneyField(read_only=True)

    class Meta:
        model = Tranche
        fields = ["number", "amount", "fee", "send_on", "status", "settled_at"]
        read_only_fields = fields


class ProgressSerializer(serializers.Serializer):
    settled = serializers.IntegerField()
    tranches = serializers.IntegerField()


class PayoutSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    order = serializers.CharField(source="order.public_id", read_only=True)
    corridor = serializers.CharField(read_only=True)
    gross = MoneyField(read_only=True)
    fees = MoneyField(read_only=True)
    net = MoneyField(read_only=True)
    progress = serializers.SerializerMethodField()
    tranches = TrancheSerializer(many=True, read_only=True)

    class Meta:
        model = Payout
        fields = [
            "id",
            "order",
            "corridor",
            "gross",
            "fees",
            "net",
            "conversion",
            "status",
            "expected_completion",
            "progress",
            "tranches",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, payout) -> dict:
        settled, tranches = payout.progress
        return {"settled": settled, "tranches": tranches}


class PayoutViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Sellers' proceeds sent home through their corridor, in tranches, with when they will complete."""

    selector = staticmethod(payouts_for)
    serializer_class = PayoutSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["status"]


class AccountSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    balance = MoneyField(read_only=True, help_text="Posted: what the platform owes the owner.")
    pending = MoneyField(read_only=True, help_text="What pending transfers would add once posted.")

    class Meta:
        model = Account
        fields = ["id", "kind", "currency", "company", "hub", "balance", "pending"]
        read_only_fields = fields


class PostingSerializer(serializers.ModelSerializer):
    transaction = serializers.CharField(source="transaction.public_id")
    description = serializers.CharField(source="transaction.description")
    order = serializers.CharField(source="transaction.order_ref")
    at = serializers.DateTimeField(source="transaction.created_at")
    status = serializers.CharField(source="transaction.status")
    amount = MoneyField(read_only=True)

    class Meta:
        model = Posting
        fields = ["id", "at", "transaction", "description", "order", "side", "amount", "status"]
        read_only_fields = fields


class AccountViewSet(TenantViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Balances: a company's accounts (one per currency), a hub's tax account; and their statements."""

    selector = staticmethod(accounts_for)
    serializer_class = AccountSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_fields = ["kind", "currency"]

    @extend_schema(responses=PostingSerializer(many=True))
    @action(detail=True)
    def statement(self, request, id=None):
        """The account's postings, newest first."""
        account = self.get_object()
        postings = postings_for(actor_for_request(request)).filter(account=account).order_by("-id")
        page = self.paginate_queryset(postings)
        return self.get_paginated_response(PostingSerializer(page, many=True).data)
