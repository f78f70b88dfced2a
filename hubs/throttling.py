"""Limits on how fast one client may call the API, and on how many API keys one address may guess.

Rates live in settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`) and are read at each request, so
a deployment, or a test, sets them without touching code. Counts are kept in the default cache:
production points CACHE_URL at Redis so that every web process shares them.
"""

from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_address(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or the address NUM_PROXIES trusted proxies report."""
    return BaseThrottle().get_ident(request)


class RateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # Read at each request, not at import, so that changed settings take effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class ClientRateThrottle(RateThrottle):
    """Requests per API key, or per signed-in user."""

    scope = "client"

    def get_cache_key(self, request, view):
        api_key = getattr(request.auth, "prefix", None)
        if api_key is not None:
            return self.cache_format % {"scope": self.scope, "ident": f"key:{api_key}"}
        if request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user:{request.user.pk}"}
        return None


class AddressRateThrottle(RateThrottle):
    """Requests per client address, whoever they authenticate as."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class ApiKeyGuessThrottle(RateThrottle):
    """Wrong API keys per client address: past the limit, the address is refused (429) before any key,
    the right one included, is looked at, until its oldest failure leaves the window."""

    scope = "api_key_failures"

    def __init__(self, request):
        super().__init__()
        self.key = self.cache_format % {"scope": self.scope, "ident": client_address(request)}
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()

    def refuse_if_locked_out(self) -> None:
        if len(self.history) >= self.num_requests:
            raise Throttled(wait=self.wait(), detail="Too many wrong API keys from this address.")

    def record_failure(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
