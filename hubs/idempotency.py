"""`Idempotency-Key` for the API's POSTs: a replay returns the first answer and writes nothing."""

import functools
import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from hubs.models import IdempotencyRecord
from hubs.scoping import actor_for_request

HEADER = "Idempotency-Key"
# A claim whose request never finished (its process died) may be taken over after this long.
ABANDONED_AFTER = timedelta(minutes=2)


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was sent before with a different request: use a new key for a new request."


class IdempotencyKeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"
    default_detail = "A request with this Idempotency-Key is still being processed: retry in a moment."


def _principal(request):
    actor = actor_for_request(request)
    return f"api_key:{actor.api_key.pk}" if actor.api_key is not None else f"user:{request.user.pk}"


def _fingerprint(request):
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), request.body])).hexdigest()


def _claim(principal, key, fingerprint):
    """Claim the key for this request; answer with the stored first answer when it has one."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(principal=principal, key=key, fingerprint=fingerprint), None
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(principal=principal, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.status_code is not None:
        return None, Response(record.body, status=record.status_code, headers={"Idempotent-Replayed": "true"})
    abandoned = record.created_at < timezone.now() - ABANDONED_AFTER
    if abandoned and IdempotencyRecord.objects.filter(pk=record.pk, status_code=None).update(created_at=timezone.now()):
        return record, None
    raise IdempotencyKeyInUse()


def idempotent(view):
    """Wrap a viewset's POST handler so that a request repeated with the same key is answered, not re-done.

    The key is claimed before the work starts, so concurrent retries wait for the first answer
    instead of racing it. The first successful answer is stored in the transaction of the writes it
    reports; a failed request releases the key, so it may be retried with the same key.
    """

    @functools.wraps(view)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(self, request, *args, **kwargs)
        if not key.strip() or len(key) > 200:
            raise ValidationError({HEADER: "An Idempotency-Key is 1 to 200 characters."}, code="invalid")
        record, replay = _claim(_principal(request), key, _fingerprint(request))
        if replay is not None:
            return replay
        try:
            with transaction.atomic():
                response = view(self, request, *args, **kwargs)
                record.status_code, record.body = response.status_code, response.data
                record.save(update_fields=["status_code", "body"])
        except BaseException:
            record.delete()
            raise
        return response

    return wrapper
