import pickle
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_api_key.crypto import concatenate

from hubs.kernel.cache import read_with_tokens
from hubs.models import ApiKey
from hubs.selectors import API_KEYS
from hubs.services import api_key_cache_key, api_key_mark_used
from hubs.throttling import ApiKeyGuessThrottle

# A key's last use is stamped at most this often, so busy integrations do not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# How long a verified key is kept in the shared cache. Revoking it, editing it, or changing its integrator,
# membership, company or hub drops it at once (`hubs.selectors.API_KEYS`); its expiry is checked at each use.
VERIFIED_KEY_SECONDS = 30


def _stamp_last_use(api_key):
    """Stamp the key's last use at most once a minute per key: a cache entry gates the one UPDATE, so
    no request waits on the broker or writes more often than that."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at <= LAST_USED_RESOLUTION:
        return
    if cache.add(f"api-key-stamped:{api_key.pk}", True, LAST_USED_RESOLUTION.total_seconds()):
        api_key_mark_used(api_key_id=api_key.pk, used_at=now)
        api_key.last_used_at = now  # so that the copy kept next asks the cache again only a minute from now


def _without_password(api_key):
    """A copy of the key, its rows with it, whose user's password hash is left out (deferred: read from the
    database if anything asks for it), so that no password hash is kept in the shared cache."""
    kept = pickle.loads(pickle.dumps(api_key))
    kept.membership.user.__dict__.pop("password", None)
    return kept


def _derived_id(raw):
    """The row id a key issued by `hubs.services.api_key_issue` has: its prefix and the hash of the whole key."""
    prefix, _, _ = raw.partition(".")
    return concatenate(prefix, ApiKey.objects.key_generator.hash(raw))


def _verified(raw, derived_id, kept):
    """The key `raw` presents, unrevoked and verified, with its membership (user, company, hub); None if none.

    A key verified a moment ago (`kept`, the shared cache's entry) is served from it when the API_KEYS token it
    was kept under is still the current one; otherwise one indexed look-up (by prefix), and the hash is checked.
    """
    token = API_KEYS.current()  # before reading the row: a change committed after this bumps it again
    if kept is not None and kept[0] == token and kept[1].pk == derived_id:
        return kept[1], None
    prefix, dot, _ = raw.partition(".")
    if not dot:
        return None, None
    api_key = (
        ApiKey.objects.select_related("membership__user", "membership__company", "membership__hub")
        .filter(prefix=prefix, revoked=False)
        .first()
    )
    if api_key is None or not api_key.is_valid(raw):
        return None, None
    keep = api_key.pk == derived_id and not API_KEYS.changing()  # a key of an older hasher is checked each time
    return api_key, token if keep else None


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: the request acts as the key's integrator membership, and no more."""

    keyword = "Api-Key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header: send `Api-Key <key>`.", "malformed_api_key")
        raw = parts[1].decode("latin-1")
        derived_id = _derived_id(raw)
        entry_key = api_key_cache_key(derived_id)
        guesses = ApiKeyGuessThrottle(request)
        # One round trip: the address's wrong guesses, the kept key, and the generation tokens of the request.
        cached = read_with_tokens([guesses.key, entry_key])
        guesses.load(cached.get(guesses.key))
        guesses.refuse_if_locked_out()
        api_key, keep = _verified(raw, derived_id, cached.get(entry_key))
        if api_key is None:
            guesses.record_failure()
            raise AuthenticationFailed("Unknown or revoked API key.", code="invalid_api_key")
        if api_key.has_expired:
            raise AuthenticationFailed("This API key has expired.", code="expired_api_key")
        if not api_key.membership.user.is_active:
            raise AuthenticationFailed("The integrator of this API key is deactivated.", code="inactive_integrator")
        _stamp_last_use(api_key)
        if keep is not None:  # only a key that passed every check is kept, under the token it was read under
            cache.set(entry_key, (keep, _without_password(api_key)), VERIFIED_KEY_SECONDS)
        return api_key.membership.user, api_key

    def authenticate_header(self, request):
        return self.keyword
