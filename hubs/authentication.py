from datetime import timedelta

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from hubs.kernel.background import enqueue_on_commit
from hubs.models import ApiKey
from hubs.tasks import mark_api_key_used_task

# A key's last use is stamped at most this often, so busy integrations do not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        prefix, dot, _ = raw.partition(".")
        api_key = (
            ApiKey.objects.select_related("membership__user", "membership__company", "membership__hub")
            .filter(prefix=prefix, revoked=False)
            .first()
            if dot
            else None
        )
        if api_key is None or not api_key.is_valid(raw):
            raise AuthenticationFailed("Unknown or revoked API key.", code="invalid_api_key")
        if api_key.has_expired:
            raise AuthenticationFailed("This API key has expired.", code="expired_api_key")
        if not api_key.membership.user.is_active:
            raise AuthenticationFailed("The integrator of this API key is deactivated.", code="inactive_integrator")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            enqueue_on_commit(mark_api_key_used_task, api_key.pk, now.isoformat())
        return api_key.membership.user, api_key

    def authenticate_header(self, request):
        return self.keyword
