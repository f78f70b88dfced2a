"""Partner webhooks (`hubs.partner_webhooks`): an order's state changes POSTed, signed, to a real HTTP server on
127.0.0.1 that records what it gets and answers as told (200, 500, or nothing until past the timeout)."""

import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ewtp.celery import app
from hubs.kernel.background import swept_before
from hubs.kernel.errors import DomainError
from hubs.kernel.signatures import verify
from hubs.models import AuditEvent, Company, WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from hubs.partner_webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    webhook_deliveries_due,
    webhook_delivery_retry,
    webhook_delivery_send,
    webhook_endpoint_add,
    webhook_endpoint_deactivate,
    webhook_endpoint_secret_rotate,
)
from hubs.scoping import actor_for
from hubs.tasks import webhook_deliveries_sweep_task, webhook_delivery_send_task
from tests.tenants import issue_key, key_client, session_client
from tests.trade.conftest import BUYER, hgh, hkg, make_listing, mys, quote_listing, rules, yiw  # noqa: F401
from trade.services import order_mark_paid, order_place

HANG = "hang"


@dataclass
class Received:
    headers: dict
    body: bytes

    @property
    def event(self):
        return json.loads(self.body)


@dataclass
class Partner:
    """A partner's endpoint: `answers` are given in turn (a status code, or HANG), then 200."""

    url: str
    received: list = field(default_factory=list)
    answers: list = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def partner():
    state = Partner(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received(headers=dict(self.headers), body=body))
            answer = state.answers.pop(0) if state.answers else 200
            if answer == HANG:
                state.released.wait(5)  # past the sender's timeout; released when the test ends
                return
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/ehub/events"
    yield state
    state.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager(django_capture_on_commit_callbacks):
    """`with eager(): ...` runs the tasks the block sends on commit, in this process, as a worker would."""
    before = {name: app.conf[name] for name in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    app.conf.update(before)


@pytest.fixture
def endpoint(hkg, partner):  # noqa: F811 (fixture)
    return webhook_endpoint_add(actor=actor_for(hkg.seller_admin.user), company=hkg.company, url=partner.url)


@pytest.fixture
def place(hkg, hgh, rules):  # noqa: F811 (fixtures)
    def place_order():
        quote = quote_listing(hkg, hgh, make_listing(hkg))
        return order_place(actor=actor_for(hkg.seller_admin.user), quote=quote, buyer=BUYER)

    return place_order


def deliveries_of(order):
    return WebhookDelivery.objects.filter(payload__data__order_ref=order.public_id).order_by("pk")


def send(delivery):
    return webhook_delivery_send(delivery=delivery)


def a_minute_passes(delivery):
    """The delivery's back-off is over."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- the outbox -----------------------------------------------------------------------------------------------


def test_an_order_state_change_is_delivered_signed_with_its_event_id(endpoint, place, partner, eager):
    # Given a company with an endpoint, and an order of its placed
    order = place()

    # When the order is paid, and the workers send what was written out
    with eager():
        order_mark_paid(order=order, reason="Paid by card")

    # Then the partner received the move to paid, signed with the endpoint's secret, its id in a header too
    paid = next(request for request in partner.received if request.event["type"] == "order.paid")
    verify([endpoint.secret], paid.headers[SIGNATURE_HEADER], paid.body)
    delivery = deliveries_of(order).get(event_type="order.paid")
    assert paid.headers[EVENT_ID_HEADER] == paid.event["id"] == delivery.public_id
    assert paid.event["data"] == {
        "order_ref": order.public_id,
        "from": "placed",
        "to": "paid",
        "reason": "Paid by card",
        "actor": "system",
    }
    assert paid.event["created"] == delivery.event.at.isoformat()

    # And the delivery is delivered, its one attempt logged; the placing was written out too, and the journey's
    # next moves (declared and released at export, green)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert [(a.number, a.status_code) for a in delivery.attempts.all()] == [(1, 200)]
    assert sorted(deliveries_of(order).values_list("event_type", flat=True)) == [
        "order.export_declared",
        "order.export_released",
        "order.paid",
        "order.placed",
    ]


def test_a_delivery_never_triggers_a_webhook(endpoint, place, partner, eager):
    # Given an order of a company with an endpoint
    with eager():
        place()

    # When its delivery is delivered (an audit event of the company's), then no other delivery is written
    assert WebhookDelivery.objects.count() == 1
    assert AuditEvent.objects.filter(verb="webhook_delivery.delivered").count() == 1
    assert len(partner.received) == 1


def test_a_company_without_endpoints_writes_nothing_and_asks_nothing_more(place, hkg):  # noqa: F811
    # Given a company without an endpoint, and an order of its
    order = place()

    # When the order moves
    with CaptureQueriesContext(connection) as captured:
        order_mark_paid(order=order)

    # Then nothing is written out, and no query asks for endpoints
    assert not WebhookDelivery.objects.exists()
    assert not [query for query in captured.captured_queries if "hubs_webhook" in query["sql"]]


def test_an_endpoint_gets_only_the_event_types_it_wants(hkg, place, partner):  # noqa: F811
    webhook_endpoint_add(
        actor=actor_for(hkg.seller_admin.user), company=hkg.company, url=partner.url, event_types=["order.paid"]
    )
    order = place()
    order_mark_paid(order=order)
    assert list(deliveries_of(order).values_list("event_type", flat=True)) == ["order.paid"]


def test_a_deactivated_endpoint_is_sent_nothing_more(hkg, endpoint, place, partner):  # noqa: F811
    # Given a delivery written out for an endpoint that is then deactivated
    order = place()
    delivery = deliveries_of(order).get()
    webhook_endpoint_deactivate(actor=actor_for(hkg.seller_admin.user), endpoint=endpoint, reason="New ERP")

    # When it is due, then it is given up, unsent; the order's next move is written out nowhere
    assert send(delivery).status == WebhookDeliveryStatus.FAILED
    order_mark_paid(order=order)
    assert deliveries_of(order).count() == 1
    assert not partner.received
    assert not Company.objects.get(pk=hkg.company.pk).has_webhook_endpoints


# --- sending: retries, timeouts, once ------------------------------------------------------------------------


def test_a_500_is_retried_with_back_off_and_delivered_once(endpoint, place, partner):
    # Given an endpoint that answers 500, then 200
    partner.answers = [500]
    delivery = deliveries_of(place()).get()

    # When the delivery is sent, then it waits a minute: sent again at once, it is not sent
    before = timezone.now()
    delivery = send(delivery)
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert timedelta(seconds=59) < delivery.next_attempt_at - before < timedelta(seconds=61)
    send(delivery)
    assert len(partner.received) == 1

    # When the minute has passed, then it is sent again, the same event, and delivered
    a_minute_passes(delivery)
    delivery = send(delivery)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    first, second = partner.received
    assert first.body == second.body
    assert first.headers[EVENT_ID_HEADER] == second.headers[EVENT_ID_HEADER] == delivery.public_id
    assert [attempt.outcome for attempt in delivery.attempts.all()] == ["HTTP 500", "HTTP 200"]

    # And sending it again sends nothing
    a_minute_passes(delivery)
    send(delivery)
    assert len(partner.received) == 2


def test_the_back_off_doubles(endpoint, place, partner):
    partner.answers = [500, 500]
    delivery = deliveries_of(place()).get()
    send(delivery)
    a_minute_passes(delivery)
    before = timezone.now()
    delivery = send(delivery)
    assert timedelta(seconds=119) < delivery.next_attempt_at - before < timedelta(seconds=121)
    assert delivery.attempt_count == 2


def test_a_timeout_is_logged_and_retried(endpoint, place, partner, settings):
    # Given an endpoint that does not answer within the timeout
    settings.PARTNER_WEBHOOKS_TIMEOUT_SECONDS = 0.3
    partner.answers = [HANG]
    delivery = deliveries_of(place()).get()

    # When the delivery is sent, then the timeout is logged and it is scheduled again
    delivery = send(delivery)
    (attempt,) = delivery.attempts.all()
    assert attempt.status_code is None
    assert attempt.outcome == "No answer within 0.3 s"
    assert attempt.duration_ms >= 300
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()

    # When it is due again and the endpoint answers, then it is delivered
    a_minute_passes(delivery)
    assert send(delivery).status == WebhookDeliveryStatus.DELIVERED


def test_an_endpoint_that_refuses_connections_is_logged_and_retried(hkg, place):  # noqa: F811
    webhook_endpoint_add(actor=actor_for(hkg.seller_admin.user), company=hkg.company, url="http://127.0.0.1:9/x")
    delivery = send(deliveries_of(place()).get())
    assert delivery.attempts.get().outcome.startswith("Could not connect")
    assert delivery.status == WebhookDeliveryStatus.PENDING


def test_a_delivery_is_given_up_after_its_attempts(endpoint, place, partner, settings):
    settings.PARTNER_WEBHOOKS_MAX_ATTEMPTS = 2
    partner.answers = [500, 503]
    delivery = deliveries_of(place()).get()
    send(delivery)
    a_minute_passes(delivery)
    delivery = send(delivery)
    assert delivery.status == WebhookDeliveryStatus.FAILED
    failed = AuditEvent.objects.get(verb="webhook_delivery.failed")
    assert failed.reason == "HTTP 503"
    a_minute_passes(delivery)
    send(delivery)
    assert len(partner.received) == 2


def test_the_task_run_twice_delivers_once(endpoint, place, partner):
    delivery = deliveries_of(place()).get()
    webhook_delivery_send_task(delivery.pk)
    webhook_delivery_send_task(delivery.pk)
    assert len(partner.received) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_delivery_a_worker_is_sending_is_not_sent_again(endpoint, place, partner):
    # Given a delivery a live worker has just claimed
    delivery = deliveries_of(place()).get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(sending_since=timezone.now())

    # When the task runs again, and the sweeper, then nothing is sent
    webhook_delivery_send_task(delivery.pk)
    assert webhook_deliveries_sweep_task() == 0
    assert not partner.received


def test_the_sweeper_sends_a_delivery_whose_message_was_lost(endpoint, place, partner, eager):
    # Given a delivery written out whose task never reached a worker (not run here), and one not due yet
    order = place()
    later = deliveries_of(order).get()
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    order_mark_paid(order=order)
    lost = deliveries_of(order).get(event_type="order.paid")

    # When beat's sweeper runs
    with eager():
        assert webhook_deliveries_sweep_task() == 1

    # Then the lost one is delivered, the other still waits
    assert WebhookDelivery.objects.get(pk=lost.pk).status == WebhookDeliveryStatus.DELIVERED
    assert WebhookDelivery.objects.get(pk=later.pk).status == WebhookDeliveryStatus.PENDING
    assert [request.event["id"] for request in partner.received] == [lost.public_id]


def test_the_sweeper_sends_again_what_a_dead_worker_left_sending(endpoint, place, partner, eager):
    # Given a delivery whose worker died mid-POST: claimed long ago, its attempt without an outcome
    delivery = deliveries_of(place()).get()
    long_ago = swept_before() - timedelta(seconds=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(sending_since=long_ago, attempt_count=1)
    WebhookAttempt.objects.create(delivery=delivery, number=1, started_at=long_ago)

    # When beat's sweeper runs, then it is sent again, the same event, and delivered; the log shows both
    with eager():
        assert webhook_deliveries_sweep_task() == 1
    delivery = WebhookDelivery.objects.get(pk=delivery.pk)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert partner.received[0].headers[EVENT_ID_HEADER] == delivery.public_id
    assert [attempt.outcome for attempt in delivery.attempts.all()] == [
        "No outcome recorded (its worker stopped): sent again",
        "HTTP 200",
    ]


# --- rotating an endpoint's secret ----------------------------------------------------------------------------


def signatures(request):
    return [part for part in request.headers[SIGNATURE_HEADER].split(",") if part.startswith("v1=")]


def test_after_a_rotation_events_are_signed_with_both_secrets_until_the_old_one_expires(
    hkg,  # noqa: F811 (fixture)
    endpoint,
    place,
    partner,
    settings,
):
    # Given an endpoint whose secret its seller admin rotates, with a day's grace
    settings.PARTNER_WEBHOOKS_SECRET_GRACE_HOURS = 24
    old = endpoint.secret
    before = timezone.now()
    rotated = webhook_endpoint_secret_rotate(actor=actor_for(hkg.seller_admin.user), endpoint=endpoint, reason="Leak")
    assert rotated.secret != old
    assert (
        timedelta(hours=23, minutes=59) < rotated.previous_secret_expires_at - before <= timedelta(hours=24, minutes=1)
    )

    # When an event is sent, then it carries a signature under each, the new one first: either secret verifies it
    send(deliveries_of(place()).get())
    (request,) = partner.received
    assert len(signatures(request)) == 2
    verify([rotated.secret], request.headers[SIGNATURE_HEADER], request.body)
    verify([old], request.headers[SIGNATURE_HEADER], request.body)

    # And the rotation is an audit event, naming who asked and why, without a secret in it
    event = AuditEvent.objects.get(verb="webhook_endpoint.secret_rotated")
    assert (event.actor, event.reason) == (hkg.seller_admin.user, "Leak")
    assert old not in json.dumps(event.data)
    assert rotated.secret not in json.dumps(event.data)

    # When the grace period is over, then events are signed with the new secret only
    expired = [{**previous, "expires_at": before.isoformat()} for previous in rotated.previous_secrets]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secrets=expired)
    send(deliveries_of(place()).get())
    assert len(signatures(partner.received[1])) == 1
    verify([rotated.secret], partner.received[1].headers[SIGNATURE_HEADER], partner.received[1].body)
    with pytest.raises(DomainError):
        verify([old], partner.received[1].headers[SIGNATURE_HEADER], partner.received[1].body)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).previous_secret_expires_at is None


def test_a_second_rotation_keeps_the_first_old_secret_until_its_own_end(hkg, endpoint, place, partner):  # noqa: F811
    actor = actor_for(hkg.seller_admin.user)
    first = endpoint.secret
    second = webhook_endpoint_secret_rotate(actor=actor, endpoint=endpoint).secret
    third = webhook_endpoint_secret_rotate(actor=actor, endpoint=endpoint).secret
    send(deliveries_of(place()).get())
    (request,) = partner.received
    assert len(signatures(request)) == 3
    for secret in (first, second, third):
        verify([secret], request.headers[SIGNATURE_HEADER], request.body)


def test_a_leaked_secret_stops_signing_at_once_and_so_do_those_still_in_their_grace(
    hkg,  # noqa: F811 (fixture)
    endpoint,
    place,
    partner,
):
    # Given an endpoint rotated once (its first secret in its grace), whose current secret then leaks
    actor = actor_for(hkg.seller_admin.user)
    first = endpoint.secret
    leaked = webhook_endpoint_secret_rotate(actor=actor, endpoint=endpoint).secret
    rotated = webhook_endpoint_secret_rotate(actor=actor, endpoint=endpoint, reason="Pasted in a chat", leaked=True)

    # When an event is sent, then the new secret alone signs it: neither older one verifies it
    assert rotated.previous_secrets == []
    assert rotated.previous_secret_expires_at is None
    send(deliveries_of(place()).get())
    (request,) = partner.received
    assert len(signatures(request)) == 1
    verify([rotated.secret], request.headers[SIGNATURE_HEADER], request.body)
    for old in (first, leaked):
        with pytest.raises(DomainError):
            verify([old], request.headers[SIGNATURE_HEADER], request.body)
    event = AuditEvent.objects.get(verb="webhook_endpoint.secret_leaked")
    assert (event.actor, event.reason) == (hkg.seller_admin.user, "Pasted in a chat")


def test_the_portal_console_and_api_rotate_a_leaked_secret(hkg, endpoint):  # noqa: F811
    url = f"/webhooks/{endpoint.public_id}/rotate-secret/"
    session_client(hkg.seller_admin).post(url, {"reason": "Leak", "leaked": "on"})
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).signing_secrets() == [
        WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    ]

    webhook_endpoint_secret_rotate(actor=actor_for(hkg.seller_admin.user), endpoint=endpoint)  # one in its grace
    form = {"action": "rotate_leaked_secret", "_selected_action": [endpoint.pk], "index": 0}
    response = session_client(hkg.officer).post("/admin/hubs/webhookendpoint/", form)
    rotated = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert rotated.secret in response.content.decode()
    assert rotated.signing_secrets() == [rotated.secret]

    webhook_endpoint_secret_rotate(actor=actor_for(hkg.seller_admin.user), endpoint=endpoint)
    api = f"/api/v1/webhook-endpoints/{endpoint.public_id}/rotate-secret/"
    answer = session_client(hkg.seller_admin).post(api, {"leaked": True}, format="json").json()
    assert answer["previous_secret_expires_at"] is None
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).signing_secrets() == [answer["secret"]]
    assert AuditEvent.objects.filter(verb="webhook_endpoint.secret_leaked").count() == 3


def test_the_portal_rotates_a_secret_and_shows_the_new_one_once(hkg, mys, endpoint):  # noqa: F811
    # Given the endpoint's page, which offers to rotate its secret, and asks to confirm
    client = session_client(hkg.seller_admin)
    url = f"/webhooks/{endpoint.public_id}/rotate-secret/"
    assert f'href="{url}"' in client.get(f"/webhooks/{endpoint.public_id}/").content.decode()
    assert "Draw a new secret" in client.get(url).content.decode()

    # When its seller admin confirms, then the endpoint's page shows the new secret, this once
    response = client.post(url, {"reason": "Staff changed"}, follow=True)
    rotated = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert rotated.secret != endpoint.secret
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/webhooks/{endpoint.public_id}/"
    assert rotated.secret in page
    assert "signed with the previous secret" in page
    assert rotated.secret not in client.get(f"/webhooks/{endpoint.public_id}/").content.decode()
    assert AuditEvent.objects.get(verb="webhook_endpoint.secret_rotated").reason == "Staff changed"

    # And nobody else rotates it: its staff and another company are answered 404
    assert session_client(hkg.seller_staff).post(url).status_code == 404
    assert session_client(mys.seller_admin).post(url).status_code == 404
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == rotated.secret


def test_an_officer_rotates_a_secret_from_the_console_and_sees_it_once(hkg, mys, endpoint):  # noqa: F811
    form = {"action": "rotate_secret", "_selected_action": [endpoint.pk], "index": 0}
    session_client(mys.officer).post("/admin/hubs/webhookendpoint/", form)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret

    response = session_client(hkg.officer).post("/admin/hubs/webhookendpoint/", form)
    rotated = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert rotated.secret != endpoint.secret
    assert rotated.secret in response.content.decode()
    assert AuditEvent.objects.get(verb="webhook_endpoint.secret_rotated").actor == hkg.officer.user
    page = session_client(hkg.officer).get(f"/admin/hubs/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert rotated.secret not in page


def test_the_api_rotates_a_secret(hkg, mys, endpoint):  # noqa: F811
    url = f"/api/v1/webhook-endpoints/{endpoint.public_id}/rotate-secret/"
    assert session_client(mys.seller_admin).post(url, {"reason": "x"}, format="json").status_code == 404
    assert session_client(hkg.seller_staff).post(url, format="json").status_code == 403

    client = session_client(hkg.seller_admin)
    response = client.post(url, {"reason": "Yearly"}, format="json")
    assert response.status_code == 200, response.json()
    rotated = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert response.json()["secret"] == rotated.secret != endpoint.secret
    assert response.json()["previous_secret_expires_at"] is not None
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{endpoint.public_id}/").json()

    webhook_endpoint_deactivate(actor=actor_for(hkg.seller_admin.user), endpoint=endpoint)
    refused = client.post(url, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "endpoint_inactive"


# --- sending again on request ---------------------------------------------------------------------------------


@pytest.fixture
def given_up(endpoint, place, partner, settings):
    """A delivery given up: its one attempt answered 500."""
    settings.PARTNER_WEBHOOKS_MAX_ATTEMPTS = 1
    partner.answers = [500]
    delivery = send(deliveries_of(place()).get())
    assert delivery.status == WebhookDeliveryStatus.FAILED
    return delivery


@pytest.fixture
def backing_off(endpoint, place, partner):
    """A delivery waiting out its back-off after an attempt answered 503."""
    partner.answers = [503]
    delivery = send(deliveries_of(place()).get())
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()
    return delivery


def retried_events(delivery):
    return AuditEvent.objects.filter(verb="webhook_delivery.pending", target_id=str(delivery.pk))


def test_a_given_up_delivery_is_due_again_and_sent_on_commit(
    hkg,  # noqa: F811 (fixture)
    given_up,
    partner,
    django_capture_on_commit_callbacks,
):
    # When its seller admin asks to send it again, before the transaction commits
    with django_capture_on_commit_callbacks() as on_commit:
        delivery = webhook_delivery_retry(actor=actor_for(hkg.seller_admin.user), delivery=given_up)

        # Then it is pending and due now, nothing is sent yet, and a worker is sent it on commit
        assert delivery.status == WebhookDeliveryStatus.PENDING
        assert webhook_deliveries_due().filter(pk=delivery.pk).exists()
        assert len(partner.received) == 1
    assert len(on_commit) == 1

    # And the audit event says who asked
    (event,) = retried_events(delivery)
    assert event.actor == hkg.seller_admin.user
    assert event.data["from"] == "failed"
    assert f"sent again at the request of {hkg.seller_admin.user}" in event.sentence


def test_the_portal_sends_a_given_up_delivery_again(hkg, given_up, partner, eager):  # noqa: F811
    # Given the endpoint's page, which offers to send the given-up delivery again
    client = session_client(hkg.seller_admin)
    page = client.get(f"/webhooks/{given_up.endpoint.public_id}/").content.decode()
    assert f"/webhooks/deliveries/{given_up.public_id}/retry/" in page

    # When its seller admin sends it again, then a worker sends it, the same event, and it is delivered
    with eager():
        response = client.post(f"/webhooks/deliveries/{given_up.public_id}/retry/")
    assert response["Location"] == f"/webhooks/{given_up.endpoint.public_id}/"
    delivery = WebhookDelivery.objects.get(pk=given_up.pk)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    first, second = partner.received
    assert first.body == second.body
    assert [attempt.outcome for attempt in delivery.attempts.all()] == ["HTTP 500", "HTTP 200"]
    page = client.get(response["Location"]).content.decode()
    assert "is sent again now" in page
    assert f"/webhooks/deliveries/{given_up.public_id}/retry/" not in page
    assert retried_events(delivery).get().actor == hkg.seller_admin.user


def test_the_portal_refuses_a_delivered_one_and_hides_others(hkg, mys, endpoint, place, partner):  # noqa: F811
    delivered = send(deliveries_of(place()).get())
    client = session_client(hkg.seller_admin)
    response = client.post(f"/webhooks/deliveries/{delivered.public_id}/retry/", follow=True)
    assert "was delivered: there is nothing to send again" in response.content.decode()
    assert (
        session_client(mys.seller_admin).post(f"/webhooks/deliveries/{delivered.public_id}/retry/").status_code == 404
    )
    assert (
        session_client(hkg.seller_staff).post(f"/webhooks/deliveries/{delivered.public_id}/retry/").status_code == 404
    )
    assert len(partner.received) == 1
    assert not retried_events(delivered).exists()


def test_the_api_sends_a_delivery_waiting_out_its_back_off_again_now(hkg, backing_off, partner, eager):  # noqa: F811
    # Given the company's integrator, a partner's system that missed an event
    _, key = issue_key(hkg.seller_admin, hkg.company_integrator)

    # When it asks to send the delivery again, then the answer is accepted and a worker delivers it at once
    with eager():
        response = key_client(key).post(f"/api/v1/webhook-deliveries/{backing_off.public_id}/retry/")
    assert response.status_code == 202, response.json()
    assert response.json()["id"] == backing_off.public_id
    delivery = WebhookDelivery.objects.get(pk=backing_off.pk)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert [attempt.outcome for attempt in delivery.attempts.all()] == ["HTTP 503", "HTTP 200"]
    (event,) = retried_events(delivery)
    assert event.actor == hkg.company_integrator.user
    assert "API key" in event.actor_label
    assert event.data["from"] == "pending"


def test_the_api_refuses_a_delivered_one_and_answers_404_for_another_companys(hkg, mys, endpoint, place):  # noqa: F811
    delivered = send(deliveries_of(place()).get())
    url = f"/api/v1/webhook-deliveries/{delivered.public_id}/retry/"
    refused = session_client(hkg.seller_admin).post(url)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "not_retryable"
    assert session_client(mys.seller_admin).post(url).status_code == 404
    assert session_client(hkg.seller_staff).post(url).status_code == 403
    assert not retried_events(delivered).exists()


def test_a_delivery_not_sent_yet_or_being_sent_is_not_sent_again(hkg, endpoint, place):  # noqa: F811
    actor = actor_for(hkg.seller_admin.user)
    delivery = deliveries_of(place()).get()
    with pytest.raises(DomainError, match="is not sent yet"):
        webhook_delivery_retry(actor=actor, delivery=delivery)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempt_count=1, sending_since=timezone.now())
    with pytest.raises(DomainError, match="is being sent right now"):
        webhook_delivery_retry(actor=actor, delivery=delivery)


def test_a_delivery_to_a_deactivated_endpoint_is_not_sent_again(hkg, endpoint, place):  # noqa: F811
    actor = actor_for(hkg.seller_admin.user)
    delivery = deliveries_of(place()).get()
    webhook_endpoint_deactivate(actor=actor, endpoint=endpoint)
    assert send(delivery).status == WebhookDeliveryStatus.FAILED
    with pytest.raises(DomainError) as refused:
        webhook_delivery_retry(actor=actor, delivery=delivery)
    assert refused.value.code == "endpoint_inactive"


def test_an_officer_sends_a_given_up_delivery_again_from_the_console(hkg, mys, given_up, partner, eager):  # noqa: F811
    form = {"action": "retry", "_selected_action": [given_up.pk], "index": 0}

    # Another hub's officer changes nothing
    session_client(mys.officer).post("/admin/hubs/webhookdelivery/", form)
    assert WebhookDelivery.objects.get(pk=given_up.pk).status == WebhookDeliveryStatus.FAILED

    # The home hub's officer sends it again, delivered by a worker
    with eager():
        response = session_client(hkg.officer).post("/admin/hubs/webhookdelivery/", form, follow=True)
    assert "1 delivery sent again." in response.content.decode()
    delivery = WebhookDelivery.objects.get(pk=given_up.pk)
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert retried_events(delivery).get().actor == hkg.officer.user
    assert len(partner.received) == 2


# --- sending: the address checked is the address reached (DNS rebinding) ---------------------------------------


@dataclass
class Resolver:
    """The name service as a test tells it: `answers[name]` is what each lookup of `name` gets in turn (a list of
    addresses), the last one again from then on; `lookups` the names looked up. Other names are looked up for real.
    """

    answers: dict = field(default_factory=dict)
    lookups: list = field(default_factory=list)


@pytest.fixture
def dns(monkeypatch):
    resolver = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in resolver.answers:
            return real(host, port, *args, **kwargs)
        resolver.lookups.append(host)
        turns = resolver.answers[host]
        addresses = turns.pop(0) if len(turns) > 1 else turns[0]
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port or 0),
            )
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return resolver


@pytest.fixture
def connections(monkeypatch):
    """The addresses TCP connections are opened to. This machine has no internet: a public address refuses."""
    opened = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address[0])
        try:
            public = ipaddress.ip_address(address[0]).is_global
        except ValueError:
            public = False  # a name: looked up by the real create_connection
        if public:
            raise ConnectionRefusedError(111, "Connection refused")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


PUBLIC = "93.184.215.14"


def test_a_name_that_resolves_elsewhere_after_the_check_is_not_reached_there(
    hkg,  # noqa: F811 (fixture)
    place,
    partner,
    dns,
    connections,
    settings,
):
    # Given an endpoint named partner.test, public when it was added (the partner's server listens on 127.0.0.1)
    settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE = False
    port = partner.url.split(":")[2].split("/")[0]
    dns.answers["partner.test"] = [[PUBLIC]]
    webhook_endpoint_add(
        actor=actor_for(hkg.seller_admin.user), company=hkg.company, url=f"http://partner.test:{port}/ehub/events"
    )
    delivery = deliveries_of(place()).get()

    # When it is sent while its name answers a public address to the first lookup and the loopback to any after
    dns.lookups.clear()
    dns.answers["partner.test"] = [[PUBLIC], ["127.0.0.1"]]
    delivery = send(delivery)

    # Then the loopback got nothing: the name was looked up once, and the connection went to the address checked
    assert not partner.received
    assert dns.lookups == ["partner.test"]
    assert connections == [PUBLIC]
    assert delivery.attempts.get().outcome.startswith("Could not connect")
    assert delivery.status == WebhookDeliveryStatus.PENDING


def test_a_name_resolving_to_a_private_address_at_sending_is_not_sent(hkg, place, partner, dns, connections, settings):  # noqa: F811
    settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE = False
    port = partner.url.split(":")[2].split("/")[0]
    dns.answers["partner.test"] = [[PUBLIC], ["127.0.0.1"]]
    webhook_endpoint_add(
        actor=actor_for(hkg.seller_admin.user), company=hkg.company, url=f"http://partner.test:{port}/ehub/events"
    )
    delivery = send(deliveries_of(place()).get())
    assert delivery.attempts.get().outcome == (
        "Not sent: “partner.test” is a private, loopback or reserved address: an endpoint must be reachable on the "
        "internet."
    )
    assert not connections
    assert not partner.received


def test_the_request_reaches_the_address_looked_up_and_names_the_host(hkg, place, partner, dns, connections):  # noqa: F811
    # Given an endpoint named partner.test (private addresses allowed here), whose name resolves to two addresses:
    # one where nothing listens, then the partner's
    port = partner.url.split(":")[2].split("/")[0]
    webhook_endpoint_add(
        actor=actor_for(hkg.seller_admin.user), company=hkg.company, url=f"http://partner.test:{port}/ehub/events"
    )
    dns.answers["partner.test"] = [["127.0.0.2", "127.0.0.1"]]
    dns.lookups.clear()

    # When a delivery is sent
    delivery = send(deliveries_of(place()).get())

    # Then the name was looked up once, the second address took the connection, and the request named the host
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert dns.lookups == ["partner.test"]
    assert connections == ["127.0.0.2", "127.0.0.1"]
    (request,) = partner.received
    assert request.headers["Host"] == f"partner.test:{port}"


@pytest.fixture
def tls_partner(tmp_path, monkeypatch):
    """A partner's endpoint over TLS on 127.0.0.1, with a certificate for partner.test that this process trusts;
    `names` holds the server names (SNI) its clients sent."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl makes the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=partner.test"]
        + ["-addext", "subjectAltName=DNS:partner.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    names, received = [], []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda connection, name, context: names.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"port": server.server_address[1], "names": names, "received": received}
    server.shutdown()
    server.server_close()


def test_over_tls_the_address_looked_up_is_reached_with_the_hosts_name_and_certificate(
    hkg,  # noqa: F811 (fixture)
    place,
    tls_partner,
    dns,
    connections,
):
    # Given an endpoint at https://partner.test, whose name resolves to the partner's server
    webhook_endpoint_add(
        actor=actor_for(hkg.seller_admin.user),
        company=hkg.company,
        url=f"https://partner.test:{tls_partner['port']}/ehub/events",
    )
    dns.answers["partner.test"] = [["127.0.0.1"]]

    # When a delivery is sent, then it is delivered to that address, the TLS handshake naming partner.test (whose
    # certificate the server has: a name checked against 127.0.0.1 would fail)
    delivery = send(deliveries_of(place()).get())
    assert delivery.status == WebhookDeliveryStatus.DELIVERED, delivery.attempts.get().outcome
    assert connections == ["127.0.0.1"]
    assert tls_partner["names"] == ["partner.test"]
    assert len(tls_partner["received"]) == 1


# --- endpoints: the portal ------------------------------------------------------------------------------------


def test_a_seller_admin_adds_an_endpoint_and_sees_its_secret_once(hkg, partner):  # noqa: F811
    client = session_client(hkg.seller_admin)
    response = client.post("/webhooks/", {"url": partner.url, "description": "Shop ERP"}, follow=True)
    endpoint = WebhookEndpoint.objects.get()
    assert response.redirect_chain[-1][0] == f"/webhooks/{endpoint.public_id}/"
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(f"/webhooks/{endpoint.public_id}/").content.decode()
    assert Company.objects.get(pk=hkg.company.pk).has_webhook_endpoints
    assert endpoint.public_id in client.get("/webhooks/").content.decode()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://files.example.com/x", "Give an http:// or https:// address"),
        ("javascript:alert(1)", "Give an http:// or https:// address"),
        ("http://10.0.0.5/hook", "is a private, loopback or reserved address"),
        ("http://127.0.0.1:8000/hook", "is a private, loopback or reserved address"),
        ("http://[::1]/hook", "is a private, loopback or reserved address"),
    ],
)
def test_a_bad_endpoint_address_is_a_form_error(hkg, settings, url, error):  # noqa: F811
    settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE = False
    response = session_client(hkg.seller_admin).post("/webhooks/", {"url": url})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_seller_staff_read_endpoints_but_do_not_manage_them(hkg, endpoint):  # noqa: F811
    client = session_client(hkg.seller_staff)
    assert endpoint.public_id in client.get("/webhooks/").content.decode()
    assert "Add endpoint" not in client.get("/webhooks/").content.decode()
    assert client.get(f"/webhooks/{endpoint.public_id}/").status_code == 200
    assert client.post("/webhooks/", {"url": "http://127.0.0.1:9/x"}).status_code == 403
    assert client.post(f"/webhooks/{endpoint.public_id}/test/").status_code == 404
    assert client.post(f"/webhooks/{endpoint.public_id}/deactivate/").status_code == 404


def test_the_test_button_sends_a_test_event_shown_in_the_log(hkg, endpoint, partner, eager):  # noqa: F811
    client = session_client(hkg.seller_admin)
    page = client.get(f"/webhooks/{endpoint.public_id}/").content.decode()
    assert f'action="/webhooks/{endpoint.public_id}/test/"' in page  # the portal's page, not the API's action
    assert f'href="/webhooks/{endpoint.public_id}/deactivate/"' in page
    with eager():
        response = client.post(f"/webhooks/{endpoint.public_id}/test/")
    assert response["Location"] == f"/webhooks/{endpoint.public_id}/"
    (request,) = partner.received
    assert request.event["type"] == "webhook.test"
    verify([endpoint.secret], request.headers[SIGNATURE_HEADER], request.body)
    page = client.get(response["Location"]).content.decode()
    assert "is on its way" in page
    assert request.event["id"] in page
    assert "HTTP 200" in page


def test_a_seller_admin_deactivates_an_endpoint(hkg, endpoint):  # noqa: F811
    client = session_client(hkg.seller_admin)
    assert client.get(f"/webhooks/{endpoint.public_id}/deactivate/").status_code == 200
    client.post(f"/webhooks/{endpoint.public_id}/deactivate/", {"reason": "New ERP"})
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).active
    assert AuditEvent.objects.filter(verb="webhook_endpoint.deactivated", reason="New ERP").exists()


def test_a_company_sees_only_its_own_endpoints_and_deliveries(hkg, mys, endpoint, place):  # noqa: F811
    place()
    other = session_client(mys.seller_admin)
    assert endpoint.public_id not in other.get("/webhooks/").content.decode()
    assert other.get(f"/webhooks/{endpoint.public_id}/").status_code == 404
    assert other.get("/api/v1/webhook-endpoints/").json()["results"] == []
    assert other.get("/api/v1/webhook-deliveries/").json()["results"] == []
    assert session_client(hkg.seller_staff).get("/api/v1/webhook-deliveries/").json()["count"] == 1


# --- endpoints: the console -----------------------------------------------------------------------------------


def test_an_officer_of_the_home_hub_sends_a_test_event_from_the_console(hkg, endpoint, partner, eager):  # noqa: F811
    client = session_client(hkg.officer)
    with eager():
        client.post(
            "/admin/hubs/webhookendpoint/", {"action": "send_test", "_selected_action": [endpoint.pk], "index": 0}
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "webhook.test"
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    page = client.get(f"/admin/hubs/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "HTTP 200" in page
    assert endpoint.secret not in client.get(f"/admin/hubs/webhookendpoint/{endpoint.pk}/change/").content.decode()


# --- endpoints: the API ---------------------------------------------------------------------------------------


def test_the_api_adds_an_endpoint_showing_its_secret_once(hkg, partner):  # noqa: F811
    client = session_client(hkg.seller_admin)
    body = {"url": partner.url, "event_types": ["order.paid", "order.delivered"]}
    response = client.post("/api/v1/webhook-endpoints/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    endpoint = WebhookEndpoint.objects.get(public_id=created["id"])
    assert created["secret"] == endpoint.secret
    assert created["event_types"] == ["order.delivered", "order.paid"]
    listed = client.get("/api/v1/webhook-endpoints/").json()["results"]
    assert [row["id"] for row in listed] == [endpoint.public_id]
    assert "secret" not in listed[0]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://files.example.com/x"}, "invalid_webhook_url"),
        ({"url": "http://192.168.1.10/hook"}, "private_webhook_url"),
        ({"url": "https://93.184.215.14/x", "event_types": ["order.teleported"]}, "unknown_event_type"),
    ],
)
def test_the_api_refuses_a_bad_endpoint_with_a_clear_400(hkg, settings, body, code):  # noqa: F811
    settings.PARTNER_WEBHOOKS_ALLOW_PRIVATE = False
    response = session_client(hkg.seller_admin).post("/api/v1/webhook-endpoints/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert not WebhookEndpoint.objects.exists()


def test_only_a_seller_admin_adds_endpoints_through_the_api(hkg, partner):  # noqa: F811
    response = session_client(hkg.seller_staff).post("/api/v1/webhook-endpoints/", {"url": partner.url}, format="json")
    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_the_api_deactivates_tests_and_lists_deliveries_with_their_attempts(hkg, endpoint, partner, eager):  # noqa: F811
    client = session_client(hkg.seller_admin)
    with eager():
        tested = client.post(f"/api/v1/webhook-endpoints/{endpoint.public_id}/test/")
    assert tested.status_code == 202
    delivery = client.get(f"/api/v1/webhook-deliveries/{tested.json()['id']}/").json()
    assert delivery["status"] == "delivered"
    assert delivery["payload"]["type"] == "webhook.test"
    assert [(a["number"], a["status_code"]) for a in delivery["attempts"]] == [(1, 200)]

    url = f"/api/v1/webhook-endpoints/{endpoint.public_id}/deactivate/"
    response = client.post(url, {"reason": "Moved"}, format="json")
    assert response.json()["active"] is False
    again = client.post(f"/api/v1/webhook-endpoints/{endpoint.public_id}/test/")
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "endpoint_inactive"
