"""Rule sets cannot go live broken: every parameter of a rule family is checked when a draft is published
(`hubs.tariff.RULE_FAMILIES`), and a published version whose date has not come yet can be withdrawn or
superseded by a supervisor; a draft can be discarded. Withdrawn and superseded versions are never in force."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from hubs import tariff
from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent, RateRow, RuleSet, RuleSetStatus
from hubs.rule_data import RULE_SETS
from hubs.scoping import actor_for
from hubs.selectors import hub_today, rule_set_in_force, rules_in_force
from hubs.services import (
    rule_set_copy_to_draft,
    rule_set_discard,
    rule_set_publish,
    rule_set_withdraw,
    rule_sets_load_reference,
)
from payments.management.commands.seed_demo import HUBS as DEMO_HUBS

D = Decimal


@pytest.fixture
def hgh_rules(hgh):
    return rule_sets_load_reference(hub=hgh.hub)


@pytest.fixture
def mys_rules(mys):
    return rule_sets_load_reference(hub=mys.hub)


def supervisor_of(tenant):
    return actor_for(tenant.supervisor.user)


def draft_of(tenant, rule_set, **changes):
    """A new draft copied from `rule_set`, with `changes` written straight to its row (as a bad edit would)."""
    draft = rule_set_copy_to_draft(actor=supervisor_of(tenant), rule_set=rule_set)
    RuleSet.objects.filter(pk=draft.pk).update(**changes)
    return RuleSet.objects.select_related("hub").get(pk=draft.pk)


def refusal(tenant, draft, effective_from=None):
    """The DomainError publishing `draft` meets; the draft stays a draft."""
    with pytest.raises(DomainError) as refused:
        rule_set_publish(
            actor=supervisor_of(tenant), rule_set=draft, effective_from=effective_from or hub_today(tenant.hub)
        )
    draft.refresh_from_db()
    assert draft.status == RuleSetStatus.DRAFT
    return refused.value


# --- every parameter of a rule family is checked before it is published ----------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"cbec_tax_factor": D("5")}, "invalid_parameter", "cbec_tax_factor"),
        ({"cbec_tax_factor": D("-1")}, "invalid_parameter", "cbec_tax_factor"),
        ({"cbec_order_limit": D("-5000")}, "invalid_parameter", "cbec_order_limit"),
        ({"cbec_order_limit": D("0")}, "invalid_parameter", "cbec_order_limit"),
        ({"cbec_annual_limit": D("-26000")}, "invalid_parameter", "cbec_annual_limit"),
        ({"cbec_annual_limit": D("4000")}, "invalid_parameter", "cbec_annual_limit"),  # below the order limit
        ({"cbec_order_limit": None}, "missing_parameters", "cbec_order_limit"),
        ({"cbec_tax_factor": None}, "missing_parameters", "cbec_tax_factor"),
        ({"market_procurement_cap": D("150000")}, "missing_parameters", "market_procurement_cap_currency"),
        ({"market_procurement_cap_currency": "USD"}, "missing_parameters", "market_procurement_cap"),
        (
            {"market_procurement_cap": D("-1"), "market_procurement_cap_currency": "USD"},
            "invalid_parameter",
            "market_procurement_cap",
        ),
        (
            {"market_procurement_cap": D("150000"), "market_procurement_cap_currency": "XXX"},
            "invalid_currency",
            "market_procurement_cap_currency",
        ),
        ({"lvg_rate": D("0.1"), "lvg_threshold": D("500")}, "parameter_not_used", "lvg_rate"),
        ({"de_minimis_threshold": D("500")}, "parameter_not_used", "de_minimis_threshold"),
    ],
)
def test_a_china_cbec_draft_with_a_figure_out_of_its_range_is_not_published(hgh, hgh_rules, changes, code, attr):
    # Given a draft of Hangzhou's rules with one bad figure
    draft = draft_of(hgh, hgh_rules[-1], **changes)

    # When a supervisor publishes it, then it is refused, naming the figure at fault
    refused = refusal(hgh, draft)
    assert (refused.code, refused.attr) == (code, attr)
    assert attr in refused.detail
    assert rule_set_in_force(hgh.hub, hub_today(hgh.hub)) == hgh_rules[-1]


@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"de_minimis_threshold": D("-500")}, "invalid_parameter", "de_minimis_threshold"),
        ({"de_minimis_threshold": None}, "missing_parameters", "de_minimis_threshold"),
        ({"lvg_rate": D("1.5")}, "invalid_parameter", "lvg_rate"),
        ({"lvg_rate": D("-0.1")}, "invalid_parameter", "lvg_rate"),
        ({"lvg_threshold": D("0")}, "invalid_parameter", "lvg_threshold"),
        ({"lvg_threshold": None}, "missing_parameters", "lvg_threshold"),  # a rate without its threshold
        ({"lvg_rate": None}, "missing_parameters", "lvg_rate"),
        ({"cbec_tax_factor": D("0.7")}, "parameter_not_used", "cbec_tax_factor"),
    ],
)
def test_a_malaysia_dftz_draft_with_a_figure_out_of_its_range_is_not_published(mys, mys_rules, changes, code, attr):
    draft = draft_of(mys, mys_rules[-1], **changes)
    refused = refusal(mys, draft)
    assert (refused.code, refused.attr) == (code, attr)


def test_a_de_minimis_threshold_of_zero_means_no_de_minimis(mys, mys_rules):
    draft = draft_of(mys, mys_rules[-1], de_minimis_threshold=D("0"), lvg_rate=None, lvg_threshold=None)
    published = rule_set_publish(actor=supervisor_of(mys), rule_set=draft, effective_from=hub_today(mys.hub))
    assert published.is_published


def test_amounts_are_in_whole_minor_units_of_their_currency(db):
    # A yen hub's limits have no sen; a dollar cap has cents at most
    jpy = tariff.parameter_errors(
        tariff.ImportRules.CHINA_CBEC,
        {"cbec_order_limit": D("5000.50"), "cbec_annual_limit": D("26000"), "cbec_tax_factor": D("0.7")},
        currency="JPY",
    )
    assert [(e.code, e.attr) for e in jpy] == [("invalid_parameter", "cbec_order_limit")]
    assert "JPY" in jpy[0].detail


@pytest.mark.parametrize(
    ("prefix", "changes", "attr"),
    [
        ("4202", {"vat_rate": D("1.3")}, "rates.4202.vat_rate"),
        ("", {"duty_rate": D("-0.1")}, "rates.default.duty_rate"),
        ("2204", {"consumption_tax_rate": D("1")}, "rates.2204.consumption_tax_rate"),
        ("0902", {"export_refund_rate": D("2")}, "rates.0902.export_refund_rate"),
        ("3304", {"consumption_tax_min_unit_price": {"g": "-10"}}, "rates.3304.consumption_tax_min_unit_price"),
        ("3304", {"consumption_tax_min_unit_price": {"g": "10.001"}}, "rates.3304.consumption_tax_min_unit_price"),
    ],
)
def test_a_rate_row_out_of_its_range_is_not_published(hgh, hgh_rules, prefix, changes, attr):
    draft = draft_of(hgh, hgh_rules[-1])
    RateRow.objects.filter(rule_set=draft, hs_prefix=prefix).update(**changes)
    refused = refusal(hgh, draft)
    assert (refused.code, refused.attr) == ("invalid_rate", attr)
    assert f"“{prefix or 'default'}”" in refused.detail


@pytest.mark.parametrize("hub", sorted(RULE_SETS))
def test_the_reference_rule_data_meets_its_families_declarations(hub):
    currency = {code: currency for code, _, _, currency, _ in DEMO_HUBS}[hub]
    for _, import_rules, params, rates, _ in RULE_SETS[hub]:
        assert tariff.parameter_errors(import_rules, params, currency=currency) == []
        for prefix, fields, _ in rates:
            row = vars(tariff.RateRule(hs_prefix=prefix, **fields))  # what a row leaves out is its default
            assert tariff.rate_row_errors(row, currency=currency) == [], prefix


def test_every_rule_set_figure_is_declared_once():
    declared = set(tariff.RULE_SET_PARAMETERS)
    assert declared == {
        field.name
        for field in RuleSet._meta.concrete_fields
        if field.name.startswith(("cbec_", "de_minimis_", "lvg_", "market_procurement_"))
    }
    assert {p.name for p in tariff.RATE_PARAMETERS} <= {field.name for field in RateRow._meta.concrete_fields}


# --- withdrawn before it takes effect --------------------------------------------------------------------


def published_from(tenant, rule_set, days_ahead, **changes):
    draft = draft_of(tenant, rule_set, **changes)
    effective_from = hub_today(tenant.hub) + timedelta(days=days_ahead)
    return rule_set_publish(actor=supervisor_of(tenant), rule_set=draft, effective_from=effective_from)


def test_a_supervisor_withdraws_a_version_before_it_takes_effect(hgh, hgh_rules):
    # Given version 4, published to take effect tomorrow with a wrong tax factor
    in_force = hgh_rules[-1]
    tomorrow = hub_today(hgh.hub) + timedelta(days=1)
    wrong = published_from(hgh, in_force, 1, cbec_tax_factor=D("0.9"))
    assert rule_set_in_force(hgh.hub, tomorrow) == wrong

    # When a supervisor withdraws it, with a reason
    withdrawn = rule_set_withdraw(actor=supervisor_of(hgh), rule_set=wrong, reason="wrong tax factor")

    # Then it is withdrawn, audited, and never in force: the version before it stays
    assert withdrawn.status == RuleSetStatus.WITHDRAWN
    event = AuditEvent.objects.get(target_id=wrong.pk, verb="rule_set.withdrawn")
    assert event.sentence == (
        f"Withdrawn by {hgh.supervisor.user} before it took effect on {tomorrow}: wrong tax factor"
    )
    assert rule_set_in_force(hgh.hub, tomorrow) == in_force
    assert rules_in_force()["HGH"].version == in_force.version

    # And it never changes again, rates included
    with pytest.raises(ValidationError):
        withdrawn.save()
    with pytest.raises(ValidationError):
        withdrawn.rates.first().save()
    with pytest.raises(DomainError) as again:
        rule_set_publish(actor=supervisor_of(hgh), rule_set=withdrawn, effective_from=tomorrow)
    assert again.value.code == "not_a_draft"


def test_a_version_in_force_cannot_be_withdrawn(hgh, hgh_rules):
    today = published_from(hgh, hgh_rules[-1], 0)
    with pytest.raises(DomainError) as refused:
        rule_set_withdraw(actor=supervisor_of(hgh), rule_set=today)
    assert (refused.value.code, refused.value.attr) == ("already_in_force", "effective_from")
    with pytest.raises(DomainError):
        rule_set_withdraw(actor=supervisor_of(hgh), rule_set=hgh_rules[0])  # in force in the past
    assert RuleSet.objects.filter(status=RuleSetStatus.WITHDRAWN).count() == 0


@pytest.mark.parametrize("who", ["officer", "other_supervisor", "seller_admin"])
def test_only_a_supervisor_of_the_hub_withdraws(hgh, mys, hgh_rules, who):
    future = published_from(hgh, hgh_rules[-1], 3)
    actor = actor_for(mys.supervisor.user if who == "other_supervisor" else getattr(hgh, who).user)
    with pytest.raises(PermissionDenied):
        rule_set_withdraw(actor=actor, rule_set=future)
    future.refresh_from_db()
    assert future.status == RuleSetStatus.PUBLISHED


def test_a_draft_is_discarded_not_withdrawn(hgh, hgh_rules):
    draft = draft_of(hgh, hgh_rules[-1])
    with pytest.raises(DomainError) as refused:
        rule_set_withdraw(actor=supervisor_of(hgh), rule_set=draft)
    assert refused.value.code == "invalid_transition"


# --- superseded by a corrected version for the same date -------------------------------------------------


def test_a_corrected_version_for_the_same_date_supersedes_one_not_yet_in_force(hgh, hgh_rules):
    # Given version 4, published for next week with a wrong order limit
    next_week = hub_today(hgh.hub) + timedelta(days=7)
    wrong = published_from(hgh, hgh_rules[-1], 7, cbec_order_limit=D("50000"), cbec_annual_limit=D("260000"))

    # When a supervisor publishes a corrected copy of it for the same date
    corrected = draft_of(hgh, wrong, cbec_order_limit=D("5000"), cbec_annual_limit=D("26000"))
    published = rule_set_publish(actor=supervisor_of(hgh), rule_set=corrected, effective_from=next_week)

    # Then the correction is the version in force from that date, and the wrong one is superseded, audited
    wrong.refresh_from_db()
    assert (wrong.status, published.status) == (RuleSetStatus.SUPERSEDED, RuleSetStatus.PUBLISHED)
    assert rule_set_in_force(hgh.hub, next_week) == published
    superseded = AuditEvent.objects.get(target_id=wrong.pk, verb="rule_set.superseded")
    assert superseded.data["by_version"] == published.version
    assert f"Superseded by version {published.version}" in superseded.sentence
    assert AuditEvent.objects.get(target_id=published.pk, verb="rule_set.published").data["supersedes_version"] == (
        wrong.version
    )


def test_a_version_in_force_is_not_superseded(hgh, hgh_rules):
    today = hub_today(hgh.hub)
    in_force = published_from(hgh, hgh_rules[-1], 0)
    refused = refusal(hgh, draft_of(hgh, in_force), effective_from=today)
    assert (refused.code, refused.attr) == ("effective_date_taken", "effective_from")
    in_force.refresh_from_db()
    assert in_force.status == RuleSetStatus.PUBLISHED


def test_only_a_supervisor_of_the_hub_supersedes(hgh, hgh_rules):
    future = published_from(hgh, hgh_rules[-1], 2)
    draft = draft_of(hgh, future)
    with pytest.raises(PermissionDenied):
        rule_set_publish(actor=actor_for(hgh.officer.user), rule_set=draft, effective_from=future.effective_from)
    future.refresh_from_db()
    assert future.status == RuleSetStatus.PUBLISHED


# --- discarded drafts ------------------------------------------------------------------------------------


def test_a_supervisor_discards_a_draft(hgh, hgh_rules):
    draft = draft_of(hgh, hgh_rules[-1])

    discarded = rule_set_discard(actor=supervisor_of(hgh), rule_set=draft, reason="started over")

    assert discarded.status == RuleSetStatus.DISCARDED
    event = AuditEvent.objects.get(target_id=draft.pk, verb="rule_set.discarded")
    assert event.sentence == f"Draft discarded by {hgh.supervisor.user}: started over"
    with pytest.raises(ValidationError):
        discarded.save()
    with pytest.raises(DomainError) as refused:
        rule_set_publish(actor=supervisor_of(hgh), rule_set=discarded, effective_from=hub_today(hgh.hub))
    assert refused.value.code == "not_a_draft"
    # the next copy takes the next number: a discarded version's number stays taken
    assert draft_of(hgh, hgh_rules[-1]).version == discarded.version + 1


def test_a_published_version_is_not_discarded_and_an_officer_discards_nothing(hgh, hgh_rules):
    with pytest.raises(DomainError) as refused:
        rule_set_discard(actor=supervisor_of(hgh), rule_set=hgh_rules[-1])
    assert refused.value.code == "invalid_transition"
    draft = draft_of(hgh, hgh_rules[-1])
    with pytest.raises(PermissionDenied):
        rule_set_discard(actor=actor_for(hgh.officer.user), rule_set=draft)
