"""The API's shared parts: the money field, prebuilt serializers, and the base viewsets every endpoint builds on."""

import threading

from django.conf import settings
from djmoney.money import Money
from rest_framework import serializers, viewsets

from hubs.kernel.idempotency import idempotent
from hubs.kernel.money import DECIMAL_PLACES, MAX_DIGITS, validate_amount
from hubs.scoping import actor_for_request, restrict


def money_representation(money) -> dict:
    return {"amount": f"{money.amount:.2f}", "currency": money.currency.code}


class MoneyField(serializers.Serializer):
    """`{"amount": "425.00", "currency": "CNY"}`: an amount never travels without its currency."""

    amount = serializers.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, validators=[validate_amount]
    )
    currency = serializers.ChoiceField(choices=settings.CURRENCIES)

    def to_representation(self, instance):
        return money_representation(instance)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        # A PATCH makes nested fields optional too; a price is still given whole.
        missing = {name: self.fields[name].error_messages["required"] for name in ("amount", "currency")}
        missing = {name: [message] for name, message in missing.items() if name not in values}
        if missing:
            raise serializers.ValidationError(missing, code="required")
        return Money(values["amount"], values["currency"])


class Prebuilt:
    """A serializer class's one bound instance per thread, built once, to validate bodies and write answers with.

    DRF deep-copies every declared field, nested serializers' included, for each new serializer: for a quote or
    an order that is about nine tenths of what its answer costs. For serializers that need no request context
    and keep nothing between calls but what `validate` resets (DRF's own state of one validation)."""

    def __init__(self, serializer_class):
        self.serializer_class = serializer_class
        self._local = threading.local()

    def _serializer(self):
        serializer = getattr(self._local, "serializer", None)
        if serializer is None:
            serializer = self._local.serializer = self.serializer_class()
        return serializer

    def represent(self, instance) -> dict:
        """What `serializer_class(instance).data` gives."""
        return self._serializer().to_representation(instance)

    def validate(self, data) -> dict:
        """What `serializer_class(data=data)` validates to, or its ValidationError, as `is_valid` raises it."""
        serializer = self._serializer()
        for state in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(state, None)
        serializer.initial_data = data
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class BaseViewSet(viewsets.GenericViewSet):
    """Base of every API viewset: each POST honours an `Idempotency-Key` (a replay returns the first
    answer and writes nothing), without any endpoint having to ask for it."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and hasattr(self, "post"):
            # `dispatch` calls `self.post` next (the router bound it to `create` or an action).
            self.post = idempotent(self.post)


class TenantViewSet(BaseViewSet):
    """Base of every viewset over tenant-owned rows: read through `selector(actor)`, the scoped selector
    the portal uses too, and restricted to the request's actor here as well, whatever the selector does.

    A subclass without a selector fails `manage.py check` (`hubs.checks`).
    """

    selector = None  # a `<nouns>_for(actor)` selector, as a staticmethod

    def get_queryset(self):
        actor = actor_for_request(self.request)
        return restrict(self.selector(actor), actor)
