from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from customs.api import PreArrivalView
from ewtp.api import router
from ewtp.health import healthz
from hubs.api import FxRateView, MeView
from logistics.api import CarrierWebhookView, RatesView
from payments.api import ProviderWebhookView

admin.site.site_header = "eHub officer console"
admin.site.site_title = "eHub officer console"
admin.site.index_title = "Your hub"

handler404 = "ewtp.api.not_found"
handler403 = "hubs.console.permission_denied"
handler500 = "ewtp.api.server_error"

urlpatterns = [
    path("", include("hubs.urls")),
    path("", include("trade.urls")),
    path("", include("payments.urls")),
    path("", include("logistics.urls")),
    path("", include("customs.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/me/", MeView.as_view(), name="api-me"),
    path("api/v1/fx-rates/", FxRateView.as_view(), name="api-fx-rates"),
    path("api/v1/rates/", RatesView.as_view(), name="api-rates"),
    path("api/v1/payments/webhook/", ProviderWebhookView.as_view(), name="api-payments-webhook"),
    path("api/v1/logistics/webhook/", CarrierWebhookView.as_view(), name="api-logistics-webhook"),
    path("api/v1/customs/pre-arrival/", PreArrivalView.as_view(), name="api-customs-pre-arrival"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the docs run no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]
