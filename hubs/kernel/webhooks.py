"""Webhooks from other systems (a payment provider, a carrier): signed with `hubs.kernel.signatures`, refused
outside its window, checked by a serializer, and applied once per event id (the kernel's `claim`), all or
nothing."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from hubs.kernel.idempotency import claim
from hubs.kernel.signatures import verify
from hubs.throttling import AddressRateThrottle


class SignedWebhookView(APIView):
    """A system's webhook: `<signature_header>: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">` under one of
    `secrets()`, its body an `event_serializer` with an `id`, applied by `apply(event)` once per id in `scope()`.
    A replayed id answers `applied: false` and changes nothing; an event `apply` refuses is not claimed."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AddressRateThrottle]
    parser_classes = [JSONParser]
    signature_header = ""
    event_serializer = None

    def secrets(self) -> list[str]:
        raise NotImplementedError

    def scope(self) -> str:
        raise NotImplementedError

    def apply(self, event: dict) -> dict:
        raise NotImplementedError

    @extend_schema(exclude=True)  # another system's interface, not the partners' API
    def post(self, request):
        verify(self.secrets(), request.headers.get(self.signature_header, ""), request.body)
        event = self.event_serializer(data=request.data)
        event.is_valid(raise_exception=True)
        with transaction.atomic():
            if claim(self.scope(), event.validated_data["id"]) is None:
                return Response({"applied": False, "detail": "This event was applied before."})
            return Response({"applied": True, **self.apply(event.validated_data)})
