"""Partner webhooks: every state change of a company's orders POSTed to the endpoints the company registered.

- An order's audit event writes one delivery per active endpoint that wants it, in the event's own transaction
  (`webhook_deliveries_create`, called by `audit_event_record`): an outbox, so a broker that is down loses nothing.
- A worker sends a delivery (`webhook_delivery_send`): signed as `hubs.kernel.signatures` signs (`t=<unix>,v1=<hmac>`,
  so a partner checks it as we check a carrier's), with the event id, the same on every attempt, for the partner to
  drop repeats. Each attempt is logged; a 2xx ends it; a timeout, a refused connection or another status tries
  again after a back-off, until the attempts run out. Beat's sweeper sends what is due and what a dead worker left;
  a failed delivery is sent again on request (`webhook_delivery_retry`).
- A secret rotated (`webhook_endpoint_secret_rotate`) signs events too for a grace period: one `v1` per secret in
  force, so that the partner checks them with the old secret or the new one while it switches.
- Partner URLs are http(s), and outside production's reach into private networks (`PARTNER_WEBHOOKS_ALLOW_PRIVATE`):
  each attempt looks the host up once, checks the addresses and connects to one of them, never to the name (which
  could resolve elsewhere by then: DNS rebinding), naming the host in `Host` and, over TLS, in SNI and the
  certificate check.
"""

import ipaddress
import json
import secrets
import socket
import time
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from hubs.kernel.audit import SENTENCES, audit_event_record
from hubs.kernel.background import enqueue_on_commit, swept_before
from hubs.kernel.errors import DomainError
from hubs.kernel.ids import new_public_id
from hubs.kernel.signatures import sign
from hubs.kernel.transitions import transition
from hubs.models import (
    OFFICER_ROLES,
    WEBHOOK_DELIVERY_RETRIED,
    WEBHOOK_ENDPOINT_ADDED,
    WEBHOOK_ENDPOINT_SECRET_LEAKED,
    WEBHOOK_ENDPOINT_SECRET_ROTATED,
    AuditEvent,
    Company,
    Role,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from hubs.scoping import require_role

SIGNATURE_HEADER = "EHub-Signature"
EVENT_ID_HEADER = "EHub-Event-Id"
TEST_EVENT = "webhook.test"
MAX_BACK_OFF = timedelta(hours=1)


def event_types() -> list[str]:
    """What an endpoint may choose to be sent: each state an order reaches (`order.<state>`, declared by the order's
    model). A test event goes to the endpoint it tests whatever it chose."""
    return sorted(verb for verb in SENTENCES if verb.startswith("order."))


# --- endpoints ----------------------------------------------------------------------------------------------


def webhook_url_validate(url: str, *, attr: str = "url") -> str:
    """`url` when it is an http(s) address a partner's endpoint may have; a DomainError saying what is wrong
    otherwise. Unless private addresses are allowed (local use, tests), its host must resolve to public ones."""
    url = _url_form_validate(url, attr=attr)
    if not settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE:
        _addresses_checked(_host(url), attr=attr)
    return url


def _url_form_validate(url: str, *, attr: str) -> str:
    """`url` when it is written as an endpoint's address is (http or https, 500 characters at most)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise DomainError(
            "Give an http:// or https:// address, such as https://erp.example.com/ehub/events.",
            code="invalid_webhook_url",
            attr=attr,
        ) from None
    if len(url) > 500:
        raise DomainError("An endpoint's address is 500 characters at most.", code="invalid_webhook_url", attr=attr)
    return url


def _host(url: str) -> str:
    """The URL's host as it is looked up and named on the wire (IDNA-encoded, an IPv6 address without brackets)."""
    return httpx.URL(url).raw_host.decode("ascii")


def _addresses_checked(host: str, *, attr: str = "url") -> list:
    """The addresses `host` resolves to, looked up once; a DomainError unless it resolves and, where private
    addresses are not allowed, all of them are public. A connection made to one of these reaches what was checked;
    one made to the name would look it up again, and could reach what it resolves to by then (DNS rebinding)."""
    addresses = _addresses(host)
    if not addresses:
        raise DomainError(f"“{host}” does not resolve to an address.", code="invalid_webhook_url", attr=attr)
    if not settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE and not all(address.is_global for address in addresses):
        raise DomainError(
            f"“{host}” is a private, loopback or reserved address: an endpoint must be reachable on the internet.",
            code="private_webhook_url",
            attr=attr,
        )
    return addresses


def _addresses(host: str) -> list:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))


def _event_types_validate(wanted) -> list[str]:
    wanted = sorted(set(wanted or ()))
    unknown = [name for name in wanted if name not in event_types()]
    if unknown:
        raise DomainError(
            f"Unknown event types: {', '.join(unknown)}. Choose among {', '.join(event_types())}.",
            code="unknown_event_type",
            attr="event_types",
        )
    return wanted


def _endpoints_flag(company_pk: int) -> None:
    """Keep the company's `has_webhook_endpoints` in step (its row is locked by the caller)."""
    active = WebhookEndpoint.objects.filter(company_id=company_pk, active=True).exists()
    Company.objects.filter(pk=company_pk).update(has_webhook_endpoints=active)


def webhook_endpoint_add(
    *, actor, company: Company, url: str, description: str = "", event_types: list[str] | None = None
) -> WebhookEndpoint:
    """A seller admin registers an endpoint of its company's partner, with a secret drawn for it (shown to the
    admin once, to give to the partner). From now on the company's order events are sent there."""
    require_role(actor, company, Role.SELLER_ADMIN)
    url = webhook_url_validate(url)
    wanted = _event_types_validate(event_types)
    with transaction.atomic():
        Company.objects.select_for_update(no_key=True).get(pk=company.pk)  # its endpoints change one at a time
        endpoint = WebhookEndpoint.objects.create(
            company=company,
            url=url,
            description=(description or "").strip()[:100],
            secret=_new_secret(),
            event_types=wanted,
            created_by=actor.user if actor.user.is_authenticated else None,
        )
        _endpoints_flag(company.pk)
        audit_event_record(actor=actor, verb=WEBHOOK_ENDPOINT_ADDED, target=endpoint, data={"url": url})
    return endpoint


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_endpoint_secret_rotate(
    *, actor, endpoint: WebhookEndpoint, reason: str = "", leaked: bool = False
) -> WebhookEndpoint:
    """Draw an endpoint a new secret, as its company's seller admin or an officer of its home hub (a secret leaked,
    a partner's staff changed): shown once, as the first was, to give to the partner. Events are signed with the new
    secret and, for `PARTNER_WEBHOOKS_SECRET_GRACE_HOURS`, with the previous one too (one `v1` each), so that the
    partner checks them with either while it switches; a secret rotated away before keeps its own end. A `leaked`
    secret gets no grace: from now on the new secret alone signs, earlier ones still in their grace included (the
    partner refuses events until it has the new one; they are retried meanwhile)."""
    _require_admin_or_officer(actor, endpoint.company)
    with transaction.atomic():
        rows = WebhookEndpoint.objects.select_for_update(no_key=True, of=("self",))
        endpoint = rows.select_related("company__home_hub").get(pk=endpoint.pk)
        if not endpoint.active:
            raise DomainError(f"{endpoint.public_id} is deactivated: it is sent nothing.", code="endpoint_inactive")
        now = timezone.now()
        if leaked:
            endpoint.previous_secrets = []
            verb, data = WEBHOOK_ENDPOINT_SECRET_LEAKED, {}
        else:
            expires_at = now + timedelta(hours=settings.PARTNER_WEBHOOKS_SECRET_GRACE_HOURS)
            previous = {"secret": endpoint.secret, "expires_at": expires_at.isoformat()}
            endpoint.previous_secrets = [previous, *endpoint.previous_secrets_in_force(now)]
            verb = WEBHOOK_ENDPOINT_SECRET_ROTATED
            data = {"previous_secret_expires_at": expires_at.isoformat(timespec="seconds")}
        endpoint.secret = _new_secret()
        endpoint.save(update_fields=["secret", "previous_secrets"])
        audit_event_record(actor=actor, verb=verb, target=endpoint, reason=reason, data=data)
    return endpoint


def webhook_endpoint_deactivate(*, actor, endpoint: WebhookEndpoint, reason: str = "") -> WebhookEndpoint:
    """A seller admin stops the events to an endpoint for good; what was not delivered yet is given up."""
    require_role(actor, endpoint.company, Role.SELLER_ADMIN)
    with transaction.atomic():
        Company.objects.select_for_update(no_key=True).get(pk=endpoint.company_id)
        endpoint = transition(endpoint, False, actor=actor, reason=reason)
        _endpoints_flag(endpoint.company_id)
    return endpoint


def webhook_endpoint_test(*, actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a test event to an endpoint, as its company's seller admin or an officer of its home hub (helping
    a partner connect): a delivery like any other, logged with its attempts."""
    _require_admin_or_officer(actor, endpoint.company)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
        if not endpoint.active:
            raise DomainError(f"{endpoint.public_id} is deactivated: it is sent nothing.", code="endpoint_inactive")
        delivery = WebhookDelivery(endpoint=endpoint, event_type=TEST_EVENT)
        delivery.payload = _payload(
            delivery,
            at=timezone.now(),
            data={"endpoint": endpoint.public_id, "actor": actor.label, "message": "A test event: nothing happened."},
        )
        delivery.save()
        _send_on_commit([delivery])
    return delivery


def _require_admin_or_officer(actor, company: Company, *roles) -> None:
    """Refuse unless `actor` is the company's seller admin (or holds one of `roles` there), an officer of its home
    hub, or a superuser."""
    if not (actor.is_superuser or actor.roles_at(company.home_hub) & set(OFFICER_ROLES)):
        require_role(actor, company, Role.SELLER_ADMIN, *roles)


# --- the outbox ---------------------------------------------------------------------------------------------


def _payload(delivery: WebhookDelivery, *, at: datetime, data: dict) -> dict:
    """The body partners read; the event id is drawn here, so that the body holds it from the first attempt on."""
    delivery.public_id = new_public_id("EVT")
    return {"id": delivery.public_id, "type": delivery.event_type, "created": at.isoformat(), "data": data}


def webhook_deliveries_create(*, event: AuditEvent) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the event's company that wants it, when the event is an order's state
    change (`order.<state>`); none for any other event, the deliveries' own among them. In the event's transaction."""
    if not (event.verb.startswith("order.") and event.order_ref and event.company_id):
        return []
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(company_id=event.company_id, active=True)
        if endpoint.wants(event.verb)
    ]
    data = {
        "order_ref": event.order_ref,
        "from": event.data.get("from"),
        "to": event.data.get("to", event.verb.split(".", 1)[1]),
        "reason": event.reason,
        "actor": event.actor_label,
    }
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(endpoint=endpoint, event=event, event_type=event.verb)
        delivery.payload = _payload(delivery, at=event.at, data=data)
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    _send_on_commit(deliveries)
    return deliveries


def _send_on_commit(deliveries: list[WebhookDelivery]) -> None:
    from hubs.tasks import webhook_delivery_send_task  # the task calls these services

    for delivery in deliveries:
        enqueue_on_commit(webhook_delivery_send_task, delivery.pk)


# --- sending ------------------------------------------------------------------------------------------------


def back_off(attempts: int) -> timedelta:
    """How long a delivery waits after its `attempts`-th failed attempt: a minute, doubling, an hour at most."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACK_OFF)


def webhook_deliveries_due(now: datetime | None = None) -> QuerySet:
    """The pending deliveries whose next attempt is due and that no live worker is sending (`_is_due`)."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        Q(sending_since__isnull=True) | Q(sending_since__lt=swept_before(now)),
        status=WebhookDeliveryStatus.PENDING,
        next_attempt_at__lte=now,
    )


def _is_due(delivery: WebhookDelivery, now: datetime) -> bool:
    pending = delivery.status == WebhookDeliveryStatus.PENDING
    return pending and delivery.next_attempt_at <= now and not _is_claimed(delivery, now)


def _is_claimed(delivery: WebhookDelivery, now: datetime) -> bool:
    """Whether a live worker is sending it (its claim has not lapsed)."""
    return delivery.sending_since is not None and delivery.sending_since >= swept_before(now)


def webhook_delivery_send(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Make the delivery's next attempt if it is due and nobody else is making it: POST it, log the outcome, and
    mark it delivered on a 2xx, or schedule the next attempt (given up after `PARTNER_WEBHOOKS_MAX_ATTEMPTS`).

    The attempt is claimed in a transaction of its own before the POST, so that the database is not held while
    the partner answers and a second run of the task finds it taken; a worker that dies mid-POST leaves the
    claim to lapse (`SWEEP_AFTER_SECONDS`) and the sweeper sends the same event again."""
    with transaction.atomic():
        delivery, now = _locked(delivery), timezone.now()
        if not _is_due(delivery, now):
            return delivery
        if not delivery.endpoint.active:
            return transition(delivery, WebhookDeliveryStatus.FAILED, actor=None, reason="Its endpoint is deactivated.")
        delivery.attempt_count += 1
        delivery.sending_since = now
        delivery.save(update_fields=["attempt_count", "sending_since"])
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempt_count, started_at=delivery.sending_since
        )
    status_code, error, duration_ms = _post(delivery)
    return _attempt_record(delivery, attempt, status_code=status_code, error=error, duration_ms=duration_ms)


def webhook_delivery_retry(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, the same event: one given up (it is pending again, for one more attempt, and
    given up again if that fails too) or one waiting out a back-off. It is due at once and a worker sends it, on
    commit; an audit event says who asked. Asked by the company's seller admin or its integrator (a partner's system
    that missed an event), or by an officer of its home hub; a delivered one, one not sent yet and one being sent
    now are refused."""
    _require_admin_or_officer(actor, delivery.endpoint.company, Role.INTEGRATOR)
    with transaction.atomic():
        delivery, now = _locked(delivery), timezone.now()
        if delivery.status == WebhookDeliveryStatus.DELIVERED:
            raise DomainError(f"{delivery} was delivered: there is nothing to send again.", code="not_retryable")
        if not delivery.endpoint.active:
            endpoint = delivery.endpoint.public_id
            raise DomainError(f"{endpoint} is deactivated: it is sent nothing.", code="endpoint_inactive")
        if delivery.status == WebhookDeliveryStatus.PENDING:
            if not delivery.attempt_count:
                raise DomainError(f"{delivery} is not sent yet: it is on its way.", code="not_retryable")
            if _is_claimed(delivery, now):
                raise DomainError(f"{delivery} is being sent right now.", code="not_retryable")
        delivery.next_attempt_at = now
        delivery.save(update_fields=["next_attempt_at"])
        data = {"event_id": delivery.public_id, "url": delivery.endpoint.url, "attempts": delivery.attempt_count}
        if delivery.status == WebhookDeliveryStatus.FAILED:
            delivery = transition(delivery, WebhookDeliveryStatus.PENDING, actor=actor, data=data)
        else:
            audit_event_record(
                actor=actor,
                verb=WEBHOOK_DELIVERY_RETRIED,
                target=delivery,
                data={"from": "pending", "to": "pending", **data},
            )
        _send_on_commit([delivery])
    return delivery


def _locked(delivery: WebhookDelivery) -> WebhookDelivery:
    rows = WebhookDelivery.objects.select_for_update(no_key=True, of=("self",)).select_related(
        "endpoint__company__home_hub"
    )
    return rows.get(pk=delivery.pk)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, int]:
    """POST the delivery once: (status code or None, what went wrong, milliseconds taken).

    The endpoint's host is looked up once, here, and checked (`_addresses_checked`); the connection goes to one of
    those addresses (`_post_to`), never to the name, which could resolve elsewhere by then."""
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "eHub-Webhooks/1",
        SIGNATURE_HEADER: sign(endpoint.signing_secrets(), body),
        EVENT_ID_HEADER: delivery.public_id,
    }
    timeout = settings.PARTNER_WEBHOOKS_TIMEOUT_SECONDS
    started = time.monotonic()
    status_code, error = None, ""
    try:
        url = _url_form_validate(endpoint.url, attr="url")
        addresses = _addresses_checked(_host(url))  # again, as it resolves now: the one lookup of this attempt
        status_code = _post_to(url, addresses, content=body, headers=headers, timeout=timeout)
    except DomainError as refused:
        error = f"Not sent: {refused.detail}"
    except httpx.TimeoutException:
        error = f"No answer within {timeout:g} s"
    except httpx.HTTPError as failed:
        error = f"Could not connect: {failed}" if str(failed) else f"Could not connect ({type(failed).__name__})"
    return status_code, error[:300], round((time.monotonic() - started) * 1000)


def _post_to(url: str, addresses: list, *, content: bytes, headers: dict, timeout: float) -> int:
    """POST `url` to the first of `addresses` that takes the connection, and return the answer's status code.

    The request goes to the address itself, naming the URL's host in `Host`; over TLS, the host is the server name
    sent (SNI) and the one the certificate must be valid for (httpcore's `sni_hostname`), as if the name had been
    looked up. Proxies from the environment are not used (an explicit transport): one would look the name up again.
    """
    target = httpx.URL(url)
    headers = {**headers, "Host": target.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.raw_host.decode("ascii")}
    with httpx.Client(transport=httpx.HTTPTransport(), timeout=timeout, follow_redirects=False) as client:

        def post(address) -> int:
            pinned = target.copy_with(host=str(address))
            request = client.build_request("POST", pinned, content=content, headers=headers, extensions=extensions)
            response = client.send(request, stream=True)  # the status is all it reads: the body is never read
            response.close()
            return response.status_code

        *others, last = addresses
        for address in others:
            try:
                return post(address)
            except httpx.ConnectError:
                continue  # the next one the name resolved to
        return post(last)


def _attempt_record(
    delivery: WebhookDelivery, attempt: WebhookAttempt, *, status_code: int | None, error: str, duration_ms: int
) -> WebhookDelivery:
    with transaction.atomic():
        WebhookAttempt.objects.filter(pk=attempt.pk).update(
            status_code=status_code, error=error, duration_ms=duration_ms
        )
        delivery = _locked(delivery)
        if delivery.status != WebhookDeliveryStatus.PENDING:
            return delivery  # delivered by another attempt meanwhile
        data = {"event_id": delivery.public_id, "url": delivery.endpoint.url, "attempts": delivery.attempt_count}
        if status_code is not None and 200 <= status_code < 300:
            delivery.delivered_at, delivery.sending_since = timezone.now(), None
            delivery.save(update_fields=["delivered_at", "sending_since"])
            return transition(delivery, WebhookDeliveryStatus.DELIVERED, actor=None, data=data)
        if delivery.sending_since != attempt.started_at:
            return delivery  # this attempt's claim lapsed and another worker's attempt is under way
        delivery.sending_since = None
        if delivery.attempt_count >= settings.PARTNER_WEBHOOKS_MAX_ATTEMPTS:
            delivery.save(update_fields=["sending_since"])
            outcome = f"HTTP {status_code}" if status_code is not None else error
            return transition(delivery, WebhookDeliveryStatus.FAILED, actor=None, reason=outcome, data=data)
        delivery.next_attempt_at = timezone.now() + back_off(delivery.attempt_count)
        delivery.save(update_fields=["sending_since", "next_attempt_at"])
    return delivery
