"""The HTTP edge: what every request and answer passes, whichever front door it is for."""

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

from ewtp.api import api_not_found, error_response, is_api
from hubs.kernel.cache import tokens_read_once


def _refuse(request, status, code, detail):
    if is_api(request):
        return error_response(status, code, detail)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class RequestGuardMiddleware:
    """Refuses, before any view reads them, a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413) and a
    query string holding a NUL character, which no database column can store (400). An unknown
    /api/ address answers the API's error shape even with DEBUG on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(request, 400, "invalid_content_length", "The Content-Length header is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            detail = f"The request body is {length:,} bytes; the most this server takes is {limit:,}."
            return _refuse(request, 413, "request_too_large", detail)
        if any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values):
            return _refuse(request, 400, "null_character", "The address holds a NUL character (%00).")
        response = self.get_response(request)
        if response.status_code == 404 and is_api(request) and response.get("Content-Type", "").startswith("text/html"):
            return api_not_found()  # DEBUG's technical 404 page
        return response


class PrivateAnswersMiddleware:
    """Answers to a signed-in user, and every API answer, are never kept by a browser or a proxy: they
    carry buyers' names and addresses, prices and keys."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api(request) or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class CacheTokensMiddleware:
    """Each request reads the shared cache's generation tokens (hubs, rule sets, API keys ...) once, all in one
    round trip, rather than once per look-up: it sees the platform as it was when it began, and its own changes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with tokens_read_once():
            return self.get_response(request)
