"""Doing a piece of work once: `claim(scope, key)` for tasks and outbound calls (payouts, webhooks,
carrier bookings), and the API's `Idempotency-Key` on every POST, built on it."""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from hubs.models import Claim
from hubs.scoping import actor_for_request

HEADER = "Idempotency-Key"
# How long the API keeps a first answer to replay; a key older than this may run a new request.
ANSWERS_KEPT = timedelta(hours=24)
# A claim whose request never finished (its process died) may be taken over after this long.
ABANDONED_AFTER = timedelta(minutes=2)


def claim(scope: str, key: str, *, fingerprint: str = "", expires_at=None) -> Claim | None:
    """Claim (`scope`, `key`): the new claim when this caller is the first, None when it was claimed before.

    Made in the caller's transaction: if the work that follows rolls back, so does the claim.
    """
    try:
        with transaction.atomic():
            return Claim.objects.create(scope=scope, key=key, fingerprint=fingerprint, expires_at=expires_at)
    except IntegrityError:
        return None


def claims_purge_expired(now=None) -> int:
    """Forget the claims past their expiry (the API's stored answers); returns how many."""
    deleted, _ = Claim.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was sent before with a different request: use a new key for a new request."


class IdempotencyKeyInUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"
    default_detail = "A request with this Idempotency-Key is still being processed: retry in a moment."


def _scope(request):
    actor = actor_for_request(request)
    return f"api:key:{actor.api_key.pk}" if actor.api_key is not None else f"api:user:{request.user.pk}"


def _fingerprint(request):
    digest = hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), b""]))
    try:
        digest.update(request.body)
    except RawPostDataException:  # a multipart body, streamed into its fields and files (CSRF read it first)
        form = request._request
        for name in sorted(form.POST):
            digest.update(f"{name}={form.POST.getlist(name)}\n".encode())
        for name in sorted(form.FILES):
            for upload in form.FILES.getlist(name):
                digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    return digest.hexdigest()


def _claim_request(scope, key, fingerprint):
    """Claim the key for this request; answer with the stored first answer when it has one."""
    now = timezone.now()
    record = claim(scope, key, fingerprint=fingerprint, expires_at=now + ANSWERS_KEPT)
    if record is not None:
        return record, None
    record = Claim.objects.get(scope=scope, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if record.status_code is not None:
        return None, Response(record.result, status=record.status_code, headers={"Idempotent-Replayed": "true"})
    abandoned = record.created_at < now - ABANDONED_AFTER
    if abandoned and Claim.objects.filter(pk=record.pk, status_code=None).update(created_at=now):
        return record, None
    raise IdempotencyKeyInUse()


def idempotent(handler):
    """Wrap a POST handler so that a request repeated with the same key is answered, not re-done.

    The key is claimed before the work starts, so concurrent retries wait for the first answer
    instead of racing it. The first successful answer is stored in the transaction of the writes it
    reports; a failed request releases the key, so it may be retried with the same key.
    """

    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(request, *args, **kwargs)
        if not key.strip() or len(key) > 200:
            raise ValidationError({HEADER: "An Idempotency-Key is 1 to 200 characters."}, code="invalid")
        record, replay = _claim_request(_scope(request), key, _fingerprint(request))
        if replay is not None:
            return replay
        try:
            with transaction.atomic():
                response = handler(request, *args, **kwargs)
                record.status_code, record.result = response.status_code, response.data
                record.save(update_fields=["status_code", "result"])
        except BaseException:
            record.delete()
            raise
        return response

    return wrapper
