"""Posting a signed webhook, as a payment provider or a carrier would."""

import json

from hubs.kernel.signatures import sign


def post_signed(client, path, header, secret, event, at=None):
    """POST `event` as JSON to `path`, signed with `secret` in `header` now (or at `at`, unix seconds)."""
    body = json.dumps(event).encode()
    return client.post(path, body, content_type="application/json", headers={header: sign(secret, body, at)})
