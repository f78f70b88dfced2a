"""Hub to hub: a released export sends the destination hub one signed pre-arrival message, applied once and in the
pair's order, pre-scored by the destination's risk rules, and carried by the import declaration. Forged, stale,
replayed and out-of-order messages change nothing; keys rotate; a transport that fails is retried with back-off and
by the sweeper; a worker that dies mid-send, or a task run twice, applies a message once."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from customs.exchange import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TransportError,
    hub_key_current,
    hub_key_retire,
    hub_key_rotate,
    hub_message_body,
    hub_message_deliver,
    pre_arrival_receive,
)
from customs.models import DeclarationStatus, Direction, HubMessage, HubMessageStatus, Lane, RiskRule, RiskRuleKind
from customs.tasks import hub_message_deliver_task, hub_messages_sweep_task
from hubs.kernel.errors import DomainError
from hubs.kernel.signatures import sign
from hubs.models import AuditEvent, Claim
from hubs.scoping import actor_for
from tests.customs.conftest import declaration, rule
from trade.models import OrderStatus

S = HubMessageStatus
DOWN = "tests.customs.test_pre_arrival.DownTransport"


class DownTransport:
    """The destination cannot be reached."""

    def send(self, *, destination, headers, body):
        raise TransportError("connection refused")


class Killed(BaseException):
    """A worker SIGKILLed: nothing after this point of the task runs (not an Exception: nothing catches it)."""


class KilledBeforeSending:
    def send(self, *, destination, headers, body):
        raise Killed


class KilledAfterTheDestinationApplied:
    def send(self, *, destination, headers, body):
        pre_arrival_receive(headers=headers, body=body)
        raise Killed


def message_of(order):
    return HubMessage.objects.select_related("origin_hub", "destination_hub", "order").get(order=order)


def signed(message, *, key=None, secret=None, timestamp=None):
    """The headers and body the origin sends for `message` (or a forger's, with another secret or time)."""
    key = key or hub_key_current(message.origin_hub, message.destination_hub)
    body = hub_message_body(message)
    return {KEY_HEADER: key.key_id, SIGNATURE_HEADER: sign(secret or key.secret, body, timestamp)}, body


def refusals(code):
    return AuditEvent.objects.filter(verb="hub_message.refused", data__code=code).count()


@pytest.fixture
def queued(journey, committed):
    """Orders paid and released at export while the destination hub cannot be reached: their messages wait, the
    pair's first having failed, the others pending behind it (not sent: the destination takes them in order)."""

    def queue():
        with override_settings(HUB_MESSAGE_TRANSPORT=DOWN):
            order = journey.paid()
        message = message_of(order)
        first = message.sequence == 1
        assert (message.status, message.attempts) == ((S.FAILED, 1) if first else (S.PENDING, 0))
        return message

    return queue


def unchanged(message):
    """The message as it stands, for comparing before and after a refusal."""
    message.refresh_from_db()
    return (message.status, message.pre_score, message.applied_at, message.attempts)


def test_a_released_export_sends_one_signed_message_applied_once_and_the_import_carries_it(journey, hkg, hgh):
    rule(hgh, RiskRuleKind.RESTRICTED_GOODS, lane=Lane.YELLOW, hs_prefixes="4202", direction=Direction.IMPORT)

    # When the seller pays and its export is released (green)
    order = journey.paid()

    # Then one message went from HKG to HGH, applied there and pre-scored by HGH's rules before the goods left
    assert order.status == OrderStatus.EXPORT_RELEASED
    message = message_of(order)
    assert (message.origin_hub, message.destination_hub) == (hkg.hub, hgh.hub)
    assert (message.status, message.sequence, message.attempts) == (S.APPLIED, 1, 1)
    assert message.pre_score["lane"] == Lane.YELLOW
    assert "420221 is restricted goods (4202)" in message.pre_score["risk"][0]["why"]
    data = message.payload
    assert data["permit_number"] == declaration(order, Direction.EXPORT).public_id
    assert data["exporter"]["name"] == hkg.company.legal_name
    assert data["consignee"]["name"] == order.buyer.name
    assert data["items"][0]["hs_code"] == "420221"
    assert data["port_of_discharge"] == "HGH"
    assert data["declared_value"] == {"amount": str(order.goods.amount), "currency": "CNY"}
    assert Claim.objects.filter(scope="hub-messages:HGH", key=message.public_id).count() == 1
    verbs = list(AuditEvent.objects.filter(verb__startswith="hub_message.").values_list("verb", flat=True))
    assert sorted(verbs) == ["hub_message.applied", "hub_message.queued"]

    # And the import declaration filed once the goods are shipped carries the pre-arrival and its pre-score
    imported = declaration(journey.shipped(order), Direction.IMPORT)
    assert imported.pre_arrival["message"] == message.public_id
    assert imported.pre_arrival["lane"] == Lane.YELLOW
    assert imported.lane == Lane.YELLOW  # scored again by the same rules, as before


def test_the_import_keeps_what_its_pre_score_found_while_the_rule_is_active(journey, hgh):
    drawn = rule(hgh, RiskRuleKind.RANDOM, lane=Lane.RED, threshold=Decimal(1), direction=Direction.IMPORT)
    first, second = journey.paid(), journey.paid()
    assert message_of(first).pre_score["lane"] == message_of(second).pre_score["lane"] == Lane.RED

    # The rate lowered before the goods came: the draw made before arrival stands, and is not drawn again
    RiskRule.objects.filter(pk=drawn.pk).update(threshold=Decimal(0))
    imported = declaration(journey.shipped(first), Direction.IMPORT)
    assert imported.lane == Lane.RED
    assert [hit["why"] for hit in imported.risk] == ["before arrival, selected at random (100.00% of declarations)"]

    # The rule switched off: what it found before arrival no longer counts
    RiskRule.objects.filter(pk=drawn.pk).update(active=False)
    imported = declaration(journey.shipped(second), Direction.IMPORT)
    assert (imported.lane, imported.risk, imported.status) == (Lane.GREEN, [], DeclarationStatus.RELEASED)


def test_a_forged_signature_or_body_changes_nothing(queued):
    message = queued()
    before = unchanged(message)

    # A forger without the pair's secret, and a body changed after it was signed
    forged = signed(message, secret="0" * 64)
    headers, body = signed(message)
    tampered = body.replace(b'"pieces":0', b'"pieces":9')
    assert tampered != body
    for sent_headers, sent_body in (forged, (headers, tampered)):
        with pytest.raises(DomainError) as refused:
            pre_arrival_receive(headers=sent_headers, body=sent_body)
        assert refused.value.code == "bad_signature"

    # Nothing applied, nothing claimed: the refusals are audit events under the pair's hubs
    assert unchanged(message) == before
    assert not Claim.objects.filter(key=message.public_id).exists()
    assert refusals("bad_signature") == 2


def test_a_stale_timestamp_is_refused_as_a_replay_of_an_old_message(queued):
    message = queued()
    before = unchanged(message)
    headers, body = signed(message, timestamp=int(time.time()) - 600)  # a message captured ten minutes ago

    with pytest.raises(DomainError) as refused:
        pre_arrival_receive(headers=headers, body=body)

    assert refused.value.code == "stale_signature"
    assert unchanged(message) == before


def test_a_replayed_message_id_changes_nothing(queued):
    message = queued()
    headers, body = signed(message)
    applied, now = pre_arrival_receive(headers=headers, body=body)
    assert now
    assert applied.status == S.APPLIED
    before = unchanged(message)

    # When the same message comes again, within its window (its id claimed already)
    again, now = pre_arrival_receive(headers=headers, body=body)

    # Then it is answered "applied before": not scored again, no second applied event
    assert not now
    assert unchanged(message) == before
    assert AuditEvent.objects.filter(verb="hub_message.applied", target_id=str(message.pk)).count() == 1
    assert refusals("replayed") == 1


def test_an_out_of_order_message_waits_for_its_predecessor_and_the_sweeper_sends_both(queued, committed):
    first, second = queued(), queued()
    assert (first.sequence, second.sequence) == (1, 2)

    # When #2 reaches the destination before #1: it is refused (applying it would skip #1 for good)
    headers, body = signed(second)
    with pytest.raises(DomainError) as refused:
        pre_arrival_receive(headers=headers, body=body)
    assert refused.value.code == "out_of_order"
    assert unchanged(second)[0] == S.PENDING
    assert not Claim.objects.filter(key=second.public_id).exists()  # so it is applied when it comes in turn

    # Then once #1's back-off is over, the sweeper sends #1 (only: #2 waits its turn), and #2 follows it
    HubMessage.objects.update(next_attempt_at=timezone.now())
    with committed():
        assert hub_messages_sweep_task() == 1
    for message in (first, second):
        message.refresh_from_db()
    assert (first.status, second.status) == (S.APPLIED, S.APPLIED)
    assert first.applied_at <= second.applied_at


def test_a_failing_transport_is_retried_with_a_doubling_back_off_then_by_the_sweeper(queued, committed):
    message = queued()
    assert message.last_error == "connection refused"
    assert message.next_attempt_at - message.sent_at == timedelta(seconds=30)

    # The sweeper leaves it until its back-off is over
    with committed():
        assert hub_messages_sweep_task() == 0

    # Once it is due, the sweeper sends it again; still down, it waits twice as long
    HubMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    with override_settings(HUB_MESSAGE_TRANSPORT=DOWN), committed():
        assert hub_messages_sweep_task() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (S.FAILED, 2)
    assert message.next_attempt_at - message.sent_at == timedelta(seconds=60)

    # The destination back, the next sweep delivers it
    HubMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    with committed():
        hub_messages_sweep_task()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (S.APPLIED, 3)
    assert AuditEvent.objects.filter(verb="hub_message.failed", target_id=str(message.pk)).count() == 1


def test_the_task_run_twice_applies_once(queued, committed):
    message = queued()
    with committed():
        hub_message_deliver_task(message.pk)
        hub_message_deliver_task(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (S.APPLIED, 2)  # the failed try, then one delivery
    assert AuditEvent.objects.filter(verb="hub_message.applied", target_id=str(message.pk)).count() == 1


@pytest.mark.parametrize("killed", [KilledBeforeSending, KilledAfterTheDestinationApplied])
def test_a_worker_killed_mid_send_leaves_the_message_applied_once(queued, committed, killed):
    message = queued()
    HubMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())

    # When the worker sending it dies, before sending or after the destination applied it
    with override_settings(HUB_MESSAGE_TRANSPORT=f"{__name__}.{killed.__name__}"), pytest.raises(Killed):
        hub_message_deliver(message=message)

    # Then its next attempt was set before it went, and the sweeper (or the task's redelivery) finishes the job once
    HubMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    with committed():
        hub_messages_sweep_task()
        hub_message_deliver_task(message.pk)
    message.refresh_from_db()
    assert message.status == S.APPLIED
    assert AuditEvent.objects.filter(verb="hub_message.applied", target_id=str(message.pk)).count() == 1


def test_a_rotated_key_verifies_until_it_is_retired(queued, hkg, hgh):
    first, second = queued(), queued()
    old = hub_key_current(first.origin_hub, first.destination_hub)

    # When HGH's supervisor rotates the pair's key: the new one signs, the old one still verifies
    new = hub_key_rotate(actor=actor_for(hgh.supervisor.user), key=old)
    assert hub_key_current(first.origin_hub, first.destination_hub) == new
    old.refresh_from_db()
    assert old.retired_at > timezone.now() + timedelta(hours=23)
    headers, body = signed(first, key=old)
    assert pre_arrival_receive(headers=headers, body=body)[1]

    # Once HKG's supervisor retires it, a message it signed is refused
    hub_key_retire(actor=actor_for(hkg.supervisor.user), key=old)
    headers, body = signed(second, key=old)
    with pytest.raises(DomainError) as refused:
        pre_arrival_receive(headers=headers, body=body)
    assert refused.value.code == "retired_key"
    assert unchanged(second)[0] == S.PENDING
    assert AuditEvent.objects.filter(verb__in=["hub_key.rotated", "hub_key.retired"]).count() == 2


def test_only_a_supervisor_of_the_pair_rotates_its_keys(queued, mys, hgh):
    message = queued()
    key = hub_key_current(message.origin_hub, message.destination_hub)
    for who in (mys.supervisor, hgh.officer):
        with pytest.raises(PermissionDenied, match="supervisor"):
            hub_key_rotate(actor=actor_for(who.user), key=key)


def test_the_endpoint_applies_a_signed_message_once_and_refuses_a_forged_one(queued):
    message = queued()
    client, url = APIClient(), reverse("api-customs-pre-arrival")

    def post(headers, body):
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        return client.post(url, body, content_type="application/json", **extra)

    forged = post(*signed(message, secret="f" * 64))
    assert forged.status_code == 400
    assert forged.json()["errors"][0]["code"] == "bad_signature"

    headers, body = signed(message)
    first, again = post(headers, body), post(headers, body)
    assert (first.status_code, first.json()["applied"]) == (200, True)
    assert (again.status_code, again.json()["applied"]) == (200, False)
    assert json.loads(body)["id"] == first.json()["message"] == message.public_id


def test_the_import_is_filed_without_a_pre_arrival_that_never_came(queued, journey, hgh):
    message = queued()
    imported = declaration(journey.shipped(message.order), Direction.IMPORT)
    assert imported.pre_arrival == {}
    assert imported.status == "released"  # filed and scored as before
