"""Signed messages between systems (a payment provider's or a carrier's webhooks, partners' webhooks, hub to
hub): an HMAC-SHA256 of the timestamp and the body, sent as `t=<unix seconds>,v1=<hex>`, refused when the
signature is wrong or the timestamp is outside the window (a replay of an old message)."""

import hashlib
import hmac
import time

from hubs.kernel.errors import DomainError

WINDOW_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The signature header of `body` sent now (or at `timestamp`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secrets: list[str], header: str, body: bytes, *, now: float | None = None) -> int:
    """The message's timestamp, once its signature matches one of `secrets` (the current key and any older one
    still accepted while keys rotate) and it is within the window; a DomainError otherwise."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
        signature = fields["v1"]
    except (KeyError, ValueError):
        raise DomainError("The signature header is missing or malformed.", code="bad_signature") from None
    if not any(hmac.compare_digest(_digest(secret, timestamp, body), signature) for secret in secrets if secret):
        raise DomainError("The signature does not match the message.", code="bad_signature")
    if abs((time.time() if now is None else now) - timestamp) > WINDOW_SECONDS:
        raise DomainError(
            f"The message was signed more than {WINDOW_SECONDS} seconds from now: it is refused as a replay.",
            code="stale_signature",
        )
    return timestamp
