from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from hubs.models import ApiKey
from hubs.services import api_key_mark_used
from hubs.throttling import ApiKeyGuessThrottle

# A key's last use is stamped at most this often, so busy integrations do not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _stamp_last_use(api_key):
    """Stamp the key's last use at most once a minute per key: a cache entry gates the one UPDATE, so
    no request waits on the broker or writes more often than that."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at <= LAST_USED_RESOLUTION:
        return
    if cache.add(f"api-key-stamped:{api_key.pk}", True, LAST_USED_RESOLUTION.total_seconds()):
        api_key_mark_used(api_key_id=api_key.pk, used_at=now)


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: the request acts as the key's integrator membership, and no more."""

    keyword = "Api-Key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: send `Api-Key <key>`.", "malformed_api_key")
        guesses = ApiKeyGuessThrottle(request)
        guesses.refuse_if_locked_out()
        raw = parts[1].decode("latin-1")
        prefix, dot, _ = raw.partition(".")
        api_key = (
            ApiKey.objects.select_related("membership__user", "membership__company", "membership__hub")
            .filter(prefix=prefix, revoked=False)
            .first()
            if dot
            else None
        )
        if api_key is None or not api_key.is_valid(raw):
            guesses.record_failure()
            raise AuthenticationFailed("Unknown or revoked API key.", code="invalid_api_key")
        if api_key.has_expired:
            raise AuthenticationFailed("This API key has expired.", code="expired_api_key")
        if not api_key.membership.user.is_active:
            raise AuthenticationFailed("The integrator of this API key is deactivated.", code="inactive_integrator")
        _stamp_last_use(api_key)
        return api_key.membership.user, api_key

    def authenticate_header(self, request):
        return self.keyword
