"""The REST API's router and its one error shape.

Every error answers `{"type": ..., "errors": [{"code", "detail", "attr"}]}` (drf-standardized-errors),
including a business rule's `DomainError` (400) and a URL under /api/ that matches nothing (404).
"""

from django.http import JsonResponse
from django.views import defaults
from drf_standardized_errors.handler import ExceptionHandler as StandardExceptionHandler
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings

from customs.api import DeclarationViewSet, RefundClaimViewSet, SummaryDeclarationViewSet
from hubs.api import CompanyViewSet, HSCodeViewSet, HubViewSet, WebhookDeliveryViewSet, WebhookEndpointViewSet
from hubs.kernel.errors import DomainError
from logistics.api import ConsignmentViewSet, DepartureViewSet, ParcelViewSet, ShipmentViewSet
from payments.api import AccountViewSet, PaymentViewSet, PayoutViewSet
from trade.api import ListingViewSet, OrderViewSet, QuoteViewSet

router = DefaultRouter()
router.register("hubs", HubViewSet, basename="hub")
router.register("companies", CompanyViewSet, basename="company")
router.register("hs-codes", HSCodeViewSet, basename="hs-code")
router.register("listings", ListingViewSet, basename="listing")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("orders", OrderViewSet, basename="order")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payouts", PayoutViewSet, basename="payout")
router.register("accounts", AccountViewSet, basename="account")
router.register("departures", DepartureViewSet, basename="departure")
router.register("consignments", ConsignmentViewSet, basename="consignment")
router.register("parcels", ParcelViewSet, basename="parcel")
router.register("shipments", ShipmentViewSet, basename="shipment")
router.register("declarations", DeclarationViewSet, basename="declaration")
router.register("refund-claims", RefundClaimViewSet, basename="refund-claim")
router.register("summary-declarations", SummaryDeclarationViewSet, basename="summary-declaration")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")


class ExceptionHandler(StandardExceptionHandler):
    def convert_known_exceptions(self, exc):
        if isinstance(exc, DomainError):
            attr = exc.attr or api_settings.NON_FIELD_ERRORS_KEY
            return exceptions.ValidationError({attr: [ErrorDetail(exc.detail, code=exc.code)]})
        return super().convert_known_exceptions(exc)


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def error_response(status, code, detail):
    """An answer in the API's error shape, for errors met before or outside a DRF view."""
    type_ = "server_error" if status >= 500 else "client_error"
    return JsonResponse({"type": type_, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status)


def api_not_found():
    return error_response(404, "not_found", "No API endpoint at this address.")


def not_found(request, exception):
    if is_api(request):
        return api_not_found()
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return error_response(500, "error", "A server error occurred.")
    return defaults.server_error(request)
