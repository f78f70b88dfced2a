from django.urls import include, path

from bench.bare.api import router
from ewtp.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401 (the platform's handlers)

urlpatterns = [path("bench/bare/", include(router.urls)), *urlpatterns]
