"""`Idempotency-Key` for the API's POSTs: a replay returns the first answer and writes nothing."""

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from hubs.models import IdempotencyRecord
from hubs.scoping import actor_for_request

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was sent before with a different request: use a new key for a new request."


def _principal(request):
    actor = actor_for_request(request)
    return f"api_key:{actor.api_key.pk}" if actor.api_key is not None else f"user:{request.user.pk}"


def _fingerprint(request):
    payload = json.dumps({"method": request.method, "path": request.path, "body": request.data}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def idempotent(create):
    """Wrap a viewset's `create` so that a request repeated with the same key is answered, not re-done.

    The first successful answer is stored in the same transaction as the writes it reports; a
    failed request stores nothing, so it may be retried with the same key.
    """

    @functools.wraps(create)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return create(self, request, *args, **kwargs)
        if not key.strip() or len(key) > 200:
            raise ValidationError({HEADER: "An Idempotency-Key is 1 to 200 characters."}, code="invalid")
        principal, fingerprint = _principal(request), _fingerprint(request)

        def replay(record):
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            return Response(record.body, status=record.status_code, headers={"Idempotent-Replayed": "true"})

        record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if record is not None:
            return replay(record)
        try:
            with transaction.atomic():
                response = create(self, request, *args, **kwargs)
                IdempotencyRecord.objects.create(
                    principal=principal,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    body=response.data,
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if record is None:
                raise
            return replay(record)  # a concurrent request with the same key won: its answer stands
        return response

    return wrapper
