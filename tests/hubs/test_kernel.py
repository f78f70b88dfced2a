"""The kernel: the transition service, audit events (lossless data, sentences, never changed), claims."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from hubs.kernel.audit import audit_event_record
from hubs.kernel.errors import DomainError
from hubs.kernel.idempotency import claim
from hubs.kernel.money import allocate
from hubs.kernel.signatures import sign, verify
from hubs.kernel.transitions import _REACTIONS, react_to, transition
from hubs.models import AuditEvent, Claim, Company, RuleSetStatus
from hubs.scoping import actor_for
from hubs.selectors import audit_events_for
from hubs.tasks import purge_expired_claims_task


class RecordedTask:
    """Stands in for a Celery task's sending interface: what `then` was asked to send."""

    name = "recorded"

    def __init__(self):
        self.sent = []

    def delay(self, *args):
        self.sent.append(args)


def test_a_transition_checks_the_map_saves_records_and_sends_the_next_step_on_commit(
    hgh, django_capture_on_commit_callbacks
):
    # given an unverified company and a supervisor of its hub
    supervisor = actor_for(hgh.supervisor.user)
    next_step = RecordedTask()

    # when it is verified through the transition service
    with django_capture_on_commit_callbacks(execute=True):
        company = transition(
            hgh.company, True, actor=supervisor, reason="checked", data={"at": date(2026, 1, 2)}, then=next_step
        )

    # then the row changed, the event says from, to, who and why, and the next step was sent once
    assert Company.objects.get(pk=company.pk).verified
    event = AuditEvent.objects.get(verb="company.verified")
    assert (event.actor, event.reason) == (hgh.supervisor.user, "checked")
    assert event.data == {"from": False, "to": True, "at": "2026-01-02"}
    assert next_step.sent == [(company.pk,)]
    assert not company.can_become(True)


def test_a_refused_transition_writes_nothing_and_sends_nothing(hgh, django_capture_on_commit_callbacks):
    supervisor = actor_for(hgh.supervisor.user)
    transition(hgh.company, True, actor=supervisor)
    next_step = RecordedTask()

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as refused:
        transition(hgh.company, True, actor=supervisor, then=next_step)

    assert refused.value.code == "invalid_transition"
    assert "already verified" in refused.value.detail
    assert AuditEvent.objects.filter(verb="company.verified").count() == 1
    assert next_step.sent == []


def test_a_published_rule_set_cannot_go_back_to_draft(hgh):
    from hubs.services import rule_sets_load_reference

    rule_set = rule_sets_load_reference(hub=hgh.hub)[-1]
    assert rule_set.status == RuleSetStatus.PUBLISHED
    assert not rule_set.can_become(RuleSetStatus.DRAFT)
    with pytest.raises(DomainError, match="published: it cannot become draft"):
        transition(rule_set, RuleSetStatus.DRAFT, actor=None)


def test_event_data_keeps_decimals_and_dates_exactly(hgh):
    event = audit_event_record(
        actor=None,
        verb="company.noted",
        target=hgh.company,
        data={"total": Decimal("1234567890.10"), "rate": Decimal("1.5432098765"), "on": date(2026, 10, 30)},
    )
    stored = AuditEvent.objects.get(pk=event.pk).data
    assert stored == {"total": "1234567890.10", "rate": "1.5432098765", "on": "2026-10-30"}
    assert Decimal(stored["total"]) == Decimal("1234567890.10")


def test_an_event_of_an_unknown_verb_still_reads_as_a_sentence(hgh):
    event = audit_event_record(actor=actor_for(hgh.officer.user), verb="company.noted", target=hgh.company)
    assert event.sentence == f"Company noted by {hgh.officer.user}"


def test_officers_see_the_events_filed_under_their_hub_only(hgh, mys):
    event = audit_event_record(actor=None, verb="company.noted", target=hgh.company)
    assert list(audit_events_for(actor_for(hgh.officer.user))) == [event]
    assert not audit_events_for(actor_for(mys.officer.user)).exists()


def test_audit_events_cannot_be_updated_or_deleted_even_with_raw_sql(hgh, django_user_model):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger that guards audit events below the ORM is PostgreSQL's")
    event = audit_event_record(actor=actor_for(hgh.officer.user), verb="company.noted", target=hgh.company)

    for statement in (
        "UPDATE hubs_auditevent SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM hubs_auditevent WHERE id = %s",
        "DELETE FROM hubs_auditevent_hubs WHERE auditevent_id = %s",
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])

    # deleting the officer's user is still possible: the event keeps who acted as a label
    label = event.actor_label
    hgh.officer.user.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor, event.actor_label, event.reason) == (None, label, "")


def test_a_claim_is_had_once_and_answers_are_purged_after_their_time(db):
    first = claim("payout", "PAY-1")
    assert first is not None
    assert claim("payout", "PAY-1") is None
    assert claim("webhook", "PAY-1") is not None

    claim("api:user:1", "old", expires_at=timezone.now() - timedelta(minutes=1))
    claim("api:user:1", "new", expires_at=timezone.now() + timedelta(hours=23))
    assert purge_expired_claims_task() == 1
    assert set(Claim.objects.values_list("key", flat=True)) == {"PAY-1", "new"}


# --- signed messages ----------------------------------------------------------------------------------------


def test_a_signed_message_is_verified_under_the_current_or_a_previous_key():
    body = b'{"id": "evt_1"}'
    assert verify(["new-key", "old-key"], sign("old-key", body, 1_000), body, now=1_010) == 1_000
    assert verify(["new-key"], sign("new-key", body), body)


def test_a_message_signed_under_several_keys_carries_one_signature_each_and_either_key_verifies_it():
    # Given a message signed while a key rotates, under the new key and the old one
    body = b'{"id": "evt_1"}'
    header = sign(["new-key", "old-key"], body, 1_000)

    # Then it carries one signature per key, newest first, and a receiver holding either key accepts it
    assert header == f"{sign('new-key', body, 1_000)},{sign('old-key', body, 1_000).split(',')[1]}"
    assert verify(["new-key"], header, body, now=1_000) == 1_000
    assert verify(["old-key"], header, body, now=1_000) == 1_000
    with pytest.raises(DomainError):
        verify(["other-key"], header, body, now=1_000)


@pytest.mark.parametrize(
    ("header", "body", "code"),
    [
        ("", b"{}", "bad_signature"),
        ("t=1000", b"{}", "bad_signature"),
        ("t=1000,t=1001,v1=00", b"{}", "bad_signature"),
        ("t=abc,v1=00", b"{}", "bad_signature"),
        (sign("key", b'{"amount": 1}', 1_000), b'{"amount": 2}', "bad_signature"),  # the body was changed
        (sign("other", b"{}", 1_000), b"{}", "bad_signature"),
        (sign("key", b"{}", 1_000 - 301), b"{}", "stale_signature"),
        (sign("key", b"{}", 1_000 + 301), b"{}", "stale_signature"),
    ],
)
def test_a_forged_changed_or_old_message_is_refused(header, body, code):
    with pytest.raises(DomainError) as refused:
        verify(["key"], header, body, now=1_000)
    assert refused.value.code == code


def test_a_transition_sends_the_tasks_that_react_to_its_state(hgh, django_capture_on_commit_callbacks):
    reaction = RecordedTask()
    react_to(Company, True, reaction)
    react_to(Company, True, reaction)  # registered once
    try:
        with django_capture_on_commit_callbacks(execute=True):
            transition(hgh.company, True, actor=actor_for(hgh.supervisor.user))
    finally:
        _REACTIONS.pop((Company._meta.label, True))
    assert reaction.sent == [(hgh.company.pk,)]


# --- allocate ---------------------------------------------------------------------------------------------


def test_allocate_splits_exactly_to_the_largest_remainders():
    assert allocate(Money("100.00", "CNY"), [1, 1, 1]) == [
        Money("33.34", "CNY"),
        Money("33.33", "CNY"),
        Money("33.33", "CNY"),
    ]
    assert allocate(Money("200000.00", "USD"), [1] * 20) == [Money("10000.00", "USD")] * 20
    assert allocate(Money("10", "JPY"), [1, 2]) == [Money("3", "JPY"), Money("7", "JPY")]
    assert allocate(Money("-0.05", "CNY"), [1, 1]) == [Money("-0.03", "CNY"), Money("-0.02", "CNY")]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_refuses_weights_that_split_nothing(weights):
    with pytest.raises(ValueError, match="Weights"):
        allocate(Money("1.00", "CNY"), weights)


@given(
    cents=st.integers(-(10**12), 10**12),
    weights=st.lists(st.decimals(min_value=0, max_value=10**6, places=3), min_size=1, max_size=30).filter(any),
)
def test_property_allocated_parts_sum_exactly_and_follow_the_weights(cents, weights):
    total = Money(Decimal(cents) / 100, "CNY")
    parts = allocate(total, weights)
    assert sum(part.amount for part in parts) == total.amount
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part.amount - total.amount * weight / whole) < Decimal("0.01")  # within one minor unit
