"""The officer console's refusal page: a 403 under /admin/ is shown in the console's own layout, with the
officer's navigation, instead of a bare "403 Forbidden". Elsewhere Django's own page answers."""

from django.contrib import admin
from django.shortcuts import render
from django.urls import reverse
from django.views import defaults

REFUSED = "Your role does not allow this here."


def permission_denied(request, exception):
    """The project's `handler403`."""
    if not request.path.startswith(reverse("admin:index")):
        return defaults.permission_denied(request, exception)
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "reason": str(exception) or REFUSED,
    }
    return render(request, "admin/403.html", context, status=403)
