"""The officer console: every page scoped to the officer's hub; actions go through services."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone

from hubs.kernel.errors import DomainError
from hubs.models import ApiKey, AuditEvent, Company, RuleSet
from hubs.scoping import actor_for
from hubs.selectors import rule_set_in_force
from hubs.services import rule_set_copy_to_draft, rule_set_publish, rule_sets_load_reference
from tests.tenants import issue_key

ADMIN_ROLES = ["officer", "supervisor"]


def hub_rows(tenant):
    """The console pages of `tenant`'s rows, one per officer-console model."""
    api_key, _ = issue_key(tenant.supervisor, tenant.hub_integrator)
    event = AuditEvent.objects.get(target_id=api_key.pk)
    return {
        "hub": tenant.hub.pk,
        "company": tenant.company.pk,
        "membership": tenant.officer.pk,
        "apikey": api_key.pk,
        "auditevent": event.pk,
    }


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_an_officer_of_another_hub_gets_404_on_every_page_of_ours(client, hgh, mys, role):
    client.force_login(getattr(mys, role).user)
    for model, pk in hub_rows(hgh).items():
        response = client.get(f"/admin/hubs/{model}/{pk}/change/")
        assert response.status_code == 404, model
        assert hgh.company.legal_name not in client.get(f"/admin/hubs/{model}/").content.decode()


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_an_officer_sees_its_own_hubs_rows(client, hgh, role):
    client.force_login(getattr(hgh, role).user)
    for model, pk in hub_rows(hgh).items():
        assert client.get(f"/admin/hubs/{model}/{pk}/change/").status_code == 200, model
    assert hgh.company.legal_name in client.get("/admin/hubs/company/").content.decode()


def test_the_changelists_are_scoped_and_free_of_n_plus_1(client, hgh, mys, django_assert_max_num_queries):
    client.force_login(mys.officer.user)
    for model in ["hub", "company", "membership", "apikey", "auditevent"]:
        with django_assert_max_num_queries(15):
            assert client.get(f"/admin/hubs/{model}/").status_code == 200


def test_sellers_cannot_enter_the_console(client, hgh):
    client.force_login(hgh.seller_admin.user)
    response = client.get("/admin/hubs/company/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_supervisor_verifies_a_company_through_the_action(client, hgh):
    client.force_login(hgh.supervisor.user)
    response = client.post(
        "/admin/hubs/company/", {"action": "verify", "_selected_action": [hgh.company.pk]}, follow=True
    )
    assert response.status_code == 200
    assert Company.objects.get(pk=hgh.company.pk).verified
    assert AuditEvent.objects.filter(verb="company.verified", actor=hgh.supervisor.user).exists()


def test_an_officer_has_no_verify_action(client, hgh):
    client.force_login(hgh.officer.user)
    client.post("/admin/hubs/company/", {"action": "verify", "_selected_action": [hgh.company.pk]})
    assert not Company.objects.get(pk=hgh.company.pk).verified


def test_a_supervisor_cannot_verify_another_hubs_company_by_forging_the_form(client, hgh, mys):
    client.force_login(mys.supervisor.user)
    client.post("/admin/hubs/company/", {"action": "verify", "_selected_action": [hgh.company.pk]})
    assert not Company.objects.get(pk=hgh.company.pk).verified


def test_a_supervisor_revokes_a_hub_key_and_an_officer_is_refused(client, hgh):
    api_key, _ = issue_key(hgh.supervisor, hgh.hub_integrator)
    client.force_login(hgh.officer.user)
    response = client.post("/admin/hubs/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True)
    assert "may revoke its keys" in response.content.decode()
    assert not ApiKey.objects.get(pk=api_key.pk).revoked

    client.force_login(hgh.supervisor.user)
    client.post("/admin/hubs/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert ApiKey.objects.get(pk=api_key.pk).revoked


def test_officers_cannot_edit_rows_directly(client, hgh):
    client.force_login(hgh.supervisor.user)
    client.post(f"/admin/hubs/company/{hgh.company.pk}/change/", {"legal_name": "Renamed", "verified": "on"})
    assert Company.objects.get(pk=hgh.company.pk).legal_name == hgh.company.legal_name
    assert client.get(f"/admin/hubs/company/{hgh.company.pk}/delete/").status_code == 403


def test_officers_read_the_hs_nomenclature(client, hgh):
    client.force_login(hgh.officer.user)
    response = client.get("/admin/hubs/hscode/?q=330499")
    assert response.status_code == 200
    assert "330499" in response.content.decode()


# --- rule sets in the officer console ---------------------------------------------------------------


def rule_set_form(rule_set, **changes):
    """The change form of a draft as the browser posts it, rates inline, with `changes` applied."""
    fields = [
        "effective_from",
        "notes",
        "cbec_order_limit",
        "cbec_annual_limit",
        "cbec_tax_factor",
        "de_minimis_threshold",
        "de_minimis_includes_freight",
        "lvg_rate",
        "lvg_threshold",
        "market_procurement_cap",
        "market_procurement_cap_currency",
    ]
    data = {name: value for name, value in model_to_dict(rule_set, fields).items() if value is not None}
    if not data.get("de_minimis_includes_freight"):
        data.pop("de_minimis_includes_freight", None)
    rates = list(rule_set.rates.all())
    data.update({"rates-TOTAL_FORMS": len(rates), "rates-INITIAL_FORMS": len(rates), "rates-MIN_NUM_FORMS": 0})
    data["rates-MAX_NUM_FORMS"] = 1000
    for i, rate in enumerate(rates):
        row = model_to_dict(rate, exclude=["rule_set"])
        row["consumption_tax_min_unit_price"] = json.dumps(row["consumption_tax_min_unit_price"])
        data.update(
            {f"rates-{i}-{key}": value for key, value in row.items() if value is not None and value is not False}
        )
        data[f"rates-{i}-rule_set"] = rule_set.pk
    data.update(changes)
    return data


@pytest.fixture
def hgh_rules(hgh):
    return rule_sets_load_reference(hub=hgh.hub)


def test_a_supervisor_drafts_edits_and_publishes_a_rule_set(client, hgh, hgh_rules):
    client.force_login(hgh.supervisor.user)
    current = hgh_rules[-1]
    client.post("/admin/hubs/ruleset/", {"action": "copy_to_draft", "_selected_action": [current.pk]})
    draft = RuleSet.objects.get(hub=hgh.hub, status="draft")
    bags = list(draft.rates.values_list("hs_prefix", flat=True)).index("4202")

    response = client.post(
        f"/admin/hubs/ruleset/{draft.pk}/change/",
        rule_set_form(draft, effective_from=timezone.localdate().isoformat(), **{f"rates-{bags}-vat_rate": "0.2"}),
    )
    assert response.status_code == 302, [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms]
    assert draft.rates.get(hs_prefix="4202").vat_rate == Decimal("0.2")

    client.post("/admin/hubs/ruleset/", {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published
    assert rule_set_in_force(hgh.hub, timezone.localdate()) == draft
    assert [e.verb for e in AuditEvent.objects.filter(target_id=draft.pk).order_by("at")] == [
        "rule_set.drafted",
        "rule_set.edited",
        "rule_set.published",
    ]


def test_a_published_rule_set_cannot_be_edited(client, hgh, hgh_rules):
    client.force_login(hgh.supervisor.user)
    published = hgh_rules[-1]
    client.post(f"/admin/hubs/ruleset/{published.pk}/change/", rule_set_form(published, notes="changed"))
    published.refresh_from_db()
    assert published.notes != "changed"
    with pytest.raises(ValidationError):
        published.save()


def test_officers_read_rule_sets_but_only_supervisors_copy_them(client, hgh, hgh_rules):
    client.force_login(hgh.officer.user)
    assert client.get(f"/admin/hubs/ruleset/{hgh_rules[-1].pk}/change/").status_code == 200
    client.post("/admin/hubs/ruleset/", {"action": "copy_to_draft", "_selected_action": [hgh_rules[-1].pk]})
    assert not RuleSet.objects.filter(status="draft").exists()


def test_another_hubs_rule_sets_are_404(client, hgh, mys, hgh_rules):
    client.force_login(mys.supervisor.user)
    assert client.get(f"/admin/hubs/ruleset/{hgh_rules[-1].pk}/change/").status_code == 404
    client.post("/admin/hubs/ruleset/", {"action": "copy_to_draft", "_selected_action": [hgh_rules[-1].pk]})
    assert not RuleSet.objects.filter(status="draft").exists()


def test_rules_cannot_be_published_into_the_past(hgh, hgh_rules):
    draft = rule_set_copy_to_draft(actor=actor_for(hgh.supervisor.user), rule_set=hgh_rules[-1])
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(DomainError) as refusal:
        rule_set_publish(actor=actor_for(hgh.supervisor.user), rule_set=draft, effective_from=yesterday)
    assert refusal.value.code == "effective_in_past"
    draft.refresh_from_db()
    assert not draft.is_published


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"cbec_order_limit": None}, "missing_parameters"),
        ({"lvg_rate": Decimal("0.1")}, "missing_parameters"),
    ],
)
def test_a_draft_missing_what_its_rules_need_is_not_published(hgh, hgh_rules, change, code):
    supervisor = actor_for(hgh.supervisor.user)
    draft = rule_set_copy_to_draft(actor=supervisor, rule_set=hgh_rules[-1])
    RuleSet.objects.filter(pk=draft.pk).update(**change)
    draft.refresh_from_db()
    with pytest.raises(DomainError) as refusal:
        rule_set_publish(actor=supervisor, rule_set=draft, effective_from=timezone.localdate())
    assert refusal.value.code == code


@pytest.mark.parametrize("thresholds", [{"g": None}, {"g": "-1"}, {"kg": "10"}, ["g", 10]])
def test_consumption_tax_thresholds_are_checked_before_publishing(hgh, hgh_rules, thresholds):
    supervisor = actor_for(hgh.supervisor.user)
    draft = rule_set_copy_to_draft(actor=supervisor, rule_set=hgh_rules[-1])
    draft.rates.filter(hs_prefix="3304").update(consumption_tax_min_unit_price=thresholds)
    with pytest.raises(DomainError) as refusal:
        rule_set_publish(actor=supervisor, rule_set=draft, effective_from=timezone.localdate())
    assert refusal.value.code == "invalid_rate"
    assert "3304" in refusal.value.detail
