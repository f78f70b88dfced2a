"""Signed messages between systems (a payment provider's or a carrier's webhooks, partners' webhooks, hub to
hub): an HMAC-SHA256 of the timestamp and the body, sent as `t=<unix seconds>,v1=<hex>`, refused when the
signature is wrong or the timestamp is outside the window (a replay of an old message).

While a sender's key rotates, it signs with each key in force: `t=<unix>,v1=<hex under the new>,v1=<hex under the
old>` (one `v1` per key, as Stripe does), so that a receiver holding either key accepts the message."""

import hashlib
import hmac
import time
from collections.abc import Sequence

from hubs.kernel.errors import DomainError

WINDOW_SECONDS = 300


def sign(secrets: str | Sequence[str], body: bytes, timestamp: int | None = None) -> str:
    """The signature header of `body` sent now (or at `timestamp`), under one secret or under each of several
    (newest first)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secrets = [secrets] if isinstance(secrets, str) else list(secrets)
    if not secrets:
        raise ValueError("A message is signed with one secret at least.")
    return ",".join([f"t={timestamp}", *(f"v1={_digest(secret, timestamp, body)}" for secret in secrets)])


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secrets: list[str], header: str, body: bytes, *, now: float | None = None) -> int:
    """The message's timestamp, once one of its signatures (`v1`, one per key the sender signed with) matches one
    of `secrets` (the current key and any older one still accepted while keys rotate) and it is within the
    window; a DomainError otherwise."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value.strip() for name, value in fields if name.strip() == "t"]
    signatures = [value.strip() for name, value in fields if name.strip() == "v1"]
    try:
        (timestamp,) = (int(value) for value in timestamps)
    except ValueError:
        timestamp = None
    if timestamp is None or not signatures:
        raise DomainError("The signature header is missing or malformed.", code="bad_signature")
    digests = [_digest(secret, timestamp, body) for secret in secrets if secret]
    if not any(hmac.compare_digest(digest, signature) for digest in digests for signature in signatures):
        raise DomainError("The signature does not match the message.", code="bad_signature")
    if abs((time.time() if now is None else now) - timestamp) > WINDOW_SECONDS:
        raise DomainError(
            f"The message was signed more than {WINDOW_SECONDS} seconds from now: it is refused as a replay.",
            code="stale_signature",
        )
    return timestamp
