"""Limits on how fast one client may call the API, and on how many API keys one address may guess.

Rates live in settings (`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`) and are read at each request, so
a deployment, or a test, sets them without touching code. Counts are kept in the default cache:
production points CACHE_URL at Redis so that every web process shares them.
"""

from django.core.cache import cache
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


class ClientAndAddressThrottle(BaseThrottle):
    """Both limits of every API request, per client and per address, as DRF would apply the two throttles (a
    request counts toward each limit it is within), with their counts read from the cache in one round trip and
    written in one, where a throttle each would take four."""

    def allow_request(self, request, view):
        throttles = [throttle for throttle in (ClientRateThrottle(), AddressRateThrottle()) if throttle.rate]
        keys = {throttle: throttle.get_cache_key(request, view) for throttle in throttles}
        keys = {throttle: key for throttle, key in keys.items() if key is not None}
        histories = cache.get_many(list(keys.values()))
        now = SimpleRateThrottle.timer()
        self.refused_by, counted = [], {}
        for throttle, key in keys.items():
            throttle.now = now
            throttle.history = _within_window(histories.get(key, []), now, throttle.duration)
            if len(throttle.history) >= throttle.num_requests:
                self.refused_by.append(throttle)
            else:
                counted[key] = [now, *throttle.history]
        if counted:
            cache.set_many(counted, max(throttle.duration for throttle in keys))
        return not self.refused_by

    def wait(self):
        waits = [wait for wait in (throttle.wait() for throttle in self.refused_by) if wait is not None]
        return max(waits, default=None)


def _within_window(history, now, duration):
    """A throttle's request times (newest first) less those older than its window."""
    while history and history[-1] <= now - duration:
        history.pop()
    return history


class ApiKeyGuessThrottle(RateThrottle):
    """Wrong API keys per client address: past the limit, the address is refused (429) before any key,
    the right one included, is looked at, until its oldest failure leaves the window.

    Its count is read by the caller (`load`), with whatever else the caller reads in the same round trip."""

    scope = "api_key_failures"

    def __init__(self, request):
        super().__init__()
        self.key = self.cache_format % {"scope": self.scope, "ident": client_address(request)}

    def load(self, history) -> None:
        self.now = self.timer()
        self.history = _within_window(history or [], self.now, self.duration)

    def refuse_if_locked_out(self) -> None:
        if len(self.history) >= self.num_requests:
            raise Throttled(wait=self.wait(), detail="Too many wrong API keys from this address.")

    def record_failure(self) -> None:
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)
