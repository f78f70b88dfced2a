"""The officer console: every page scoped to the officer's hub; actions go through services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict

from hubs.admin import ReachableStateListFilter, ScopedRelatedFieldListFilter
from hubs.kernel.errors import DomainError
from hubs.models import ApiKey, AuditEvent, Company, RateRow, Role, RuleSet
from hubs.scoping import actor_for
from hubs.selectors import hub_today, rule_set_in_force
from hubs.services import rule_set_copy_to_draft, rule_set_publish, rule_sets_load_reference
from tests.factories import MembershipFactory
from tests.tenants import issue_key, make_tenant

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


def percent_text(fraction):
    """How the console shows a stored rate: Decimal("0.1300") → "13"."""
    return f"{(fraction * 100).normalize():f}"


RATES_IN_PERCENT = ["duty_rate", "vat_rate", "consumption_tax_rate", "export_refund_rate"]


def rule_set_form(rule_set, **changes):
    """The change form of a draft as the browser posts it, rates inline (in percent, the consumption-tax
    thresholds one amount per unit), with `changes` applied."""
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
    if "lvg_rate" in data:
        data["lvg_rate"] = percent_text(data["lvg_rate"])
    if not data.get("de_minimis_includes_freight"):
        data.pop("de_minimis_includes_freight", None)
    rates = list(rule_set.rates.all())
    data.update({"rates-TOTAL_FORMS": len(rates), "rates-INITIAL_FORMS": len(rates), "rates-MIN_NUM_FORMS": 0})
    data["rates-MAX_NUM_FORMS"] = 1000
    for i, rate in enumerate(rates):
        row = model_to_dict(rate, exclude=["rule_set", "consumption_tax_min_unit_price"])
        row.update({name: percent_text(row[name]) for name in RATES_IN_PERCENT})
        for unit, price in rate.consumption_tax_min_unit_price.items():
            row[f"consumption_tax_min_unit_price_{unit}"] = price
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
        rule_set_form(draft, effective_from=hub_today(hgh.hub).isoformat(), **{f"rates-{bags}-vat_rate": "20"}),
    )
    assert response.status_code == 302, [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms]
    assert draft.rates.get(hs_prefix="4202").vat_rate == Decimal("0.2")

    client.post("/admin/hubs/ruleset/", {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published
    assert rule_set_in_force(hgh.hub, hub_today(hgh.hub)) == draft
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
    yesterday = hub_today(hgh.hub) - timedelta(days=1)
    with pytest.raises(DomainError) as refusal:
        rule_set_publish(actor=actor_for(hgh.supervisor.user), rule_set=draft, effective_from=yesterday)
    assert refusal.value.code == "effective_in_past"
    draft.refresh_from_db()
    assert not draft.is_published


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"cbec_order_limit": None}, "missing_parameters"),
        ({"cbec_tax_factor": None}, "missing_parameters"),
    ],
)
def test_a_draft_missing_what_its_rules_need_is_not_published(hgh, hgh_rules, change, code):
    supervisor = actor_for(hgh.supervisor.user)
    draft = rule_set_copy_to_draft(actor=supervisor, rule_set=hgh_rules[-1])
    RuleSet.objects.filter(pk=draft.pk).update(**change)
    draft.refresh_from_db()
    with pytest.raises(DomainError) as refusal:
        rule_set_publish(actor=supervisor, rule_set=draft, effective_from=hub_today(hgh.hub))
    assert refusal.value.code == code


@pytest.mark.parametrize("thresholds", [{"g": None}, {"g": "-1"}, {"kg": "10"}, ["g", 10]])
def test_consumption_tax_thresholds_are_checked_before_publishing(hgh, hgh_rules, thresholds):
    supervisor = actor_for(hgh.supervisor.user)
    draft = rule_set_copy_to_draft(actor=supervisor, rule_set=hgh_rules[-1])
    draft.rates.filter(hs_prefix="3304").update(consumption_tax_min_unit_price=thresholds)
    with pytest.raises(DomainError) as refusal:
        rule_set_publish(actor=supervisor, rule_set=draft, effective_from=hub_today(hgh.hub))
    assert refusal.value.code == "invalid_rate"
    assert "3304" in refusal.value.detail


# --- rule sets cannot go live broken: the console names the figure at fault --------------------------------


def draft_in_console(client, hgh, hgh_rules):
    """A supervisor of HGH signed in, with a new draft of the rules in force."""
    client.force_login(hgh.supervisor.user)
    return rule_set_copy_to_draft(actor=actor_for(hgh.supervisor.user), rule_set=hgh_rules[-1])


def form_errors(response):
    """The draft form's errors by field, and its rate rows' errors by HS prefix and field."""
    rates = response.context["inline_admin_formsets"][0].formset.forms
    return response.context["adminform"].form.errors, {
        form.instance.hs_prefix: form.errors for form in rates if form.errors
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cbec_tax_factor", "5"),
        ("cbec_tax_factor", "-1"),
        ("cbec_order_limit", "-5000"),
        ("cbec_annual_limit", "1000"),  # below the order limit
        ("cbec_order_limit", ""),
    ],
)
def test_a_draft_with_a_figure_out_of_range_is_refused_on_its_field(client, hgh, hgh_rules, field, value):
    # Given a draft in the console
    draft = draft_in_console(client, hgh, hgh_rules)

    # When the supervisor saves it with a figure out of its family's range
    response = client.post(f"/admin/hubs/ruleset/{draft.pk}/change/", rule_set_form(draft, **{field: value}))

    # Then the form shows the error on that field, and the draft keeps its figures
    assert response.status_code == 200
    errors, _ = form_errors(response)
    assert list(errors) == [field], errors
    draft.refresh_from_db()
    assert (draft.cbec_tax_factor, draft.cbec_order_limit) == (Decimal("0.7"), Decimal("5000"))


def test_a_bad_figure_written_behind_the_forms_back_is_named_when_publishing(client, hgh, hgh_rules):
    draft = draft_in_console(client, hgh, hgh_rules)
    RuleSet.objects.filter(pk=draft.pk).update(cbec_tax_factor=Decimal("5"), effective_from=hub_today(hgh.hub))

    response = client.post("/admin/hubs/ruleset/", {"action": "publish", "_selected_action": [draft.pk]}, follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert any("CBEC tax factor (cbec_tax_factor)" in message for message in messages), messages
    draft.refresh_from_db()
    assert draft.is_draft


def test_rates_are_edited_as_percentages_and_stored_as_decimal_fractions(client, hgh, hgh_rules):
    draft = draft_in_console(client, hgh, hgh_rules)
    rows = list(draft.rates.values_list("hs_prefix", flat=True))
    bags = rows.index("4202")

    # The page shows 13 for a stored 0.13
    page = client.get(f"/admin/hubs/ruleset/{draft.pk}/change/").content.decode()
    assert f'name="rates-{bags}-vat_rate" value="13"' in page

    # 13.5 is stored as the Decimal 0.135
    form = rule_set_form(draft, **{f"rates-{bags}-vat_rate": "13.5", f"rates-{bags}-duty_rate": "7"})
    assert client.post(f"/admin/hubs/ruleset/{draft.pk}/change/", form).status_code == 302
    stored = RateRow.objects.get(rule_set=draft, hs_prefix="4202")
    assert (stored.vat_rate, stored.duty_rate) == (Decimal("0.135"), Decimal("0.07"))
    assert type(stored.vat_rate) is Decimal


@pytest.mark.parametrize(("value", "message"), [("100", "less than or equal to 99.99"), ("-1", "greater than")])
def test_a_percentage_out_of_range_is_refused_on_its_row(client, hgh, hgh_rules, value, message):
    draft = draft_in_console(client, hgh, hgh_rules)
    bags = list(draft.rates.values_list("hs_prefix", flat=True)).index("4202")
    response = client.post(
        f"/admin/hubs/ruleset/{draft.pk}/change/", rule_set_form(draft, **{f"rates-{bags}-vat_rate": value})
    )
    _, rates = form_errors(response)
    assert list(rates) == ["4202"]
    assert message in str(rates["4202"]["vat_rate"])


def test_the_consumption_tax_thresholds_are_amounts_in_the_hubs_currency_not_json(client, hgh, hgh_rules):
    draft = draft_in_console(client, hgh, hgh_rules)
    cosmetics = list(draft.rates.values_list("hs_prefix", flat=True)).index("3304")
    field = f"rates-{cosmetics}-consumption_tax_min_unit_price"

    # The page offers one amount per unit, in CNY, with no JSON box
    page = client.get(f"/admin/hubs/ruleset/{draft.pk}/change/").content.decode()
    assert f'name="{field}_g" value="10"' in page
    assert 'aria-label="CNY per piece"' in page
    assert f'<textarea name="{field}"' not in page

    # An amount below zero, or finer than a fen, is refused on its row; a new threshold is stored as a decimal
    for bad in ("-1", "10.001"):
        response = client.post(f"/admin/hubs/ruleset/{draft.pk}/change/", rule_set_form(draft, **{f"{field}_g": bad}))
        _, rates = form_errors(response)
        assert "consumption_tax_min_unit_price" in rates["3304"], bad
    form = rule_set_form(draft, **{f"{field}_g": "12.50", f"{field}_ml": ""})
    assert client.post(f"/admin/hubs/ruleset/{draft.pk}/change/", form).status_code == 302
    assert RateRow.objects.get(rule_set=draft, hs_prefix="3304").consumption_tax_min_unit_price == {
        "g": "12.50",
        "piece": "15",
    }


def test_officers_read_rates_in_percent(client, hgh, hgh_rules):
    client.force_login(hgh.officer.user)
    page = client.get(f"/admin/hubs/ruleset/{hgh_rules[-1].pk}/change/").content.decode()
    assert "13%" in page
    assert "CNY 10 per g, CNY 10 per ml, CNY 15 per piece" in page


def test_the_low_value_goods_rate_is_a_percentage_too(client, mys):
    published = rule_sets_load_reference(hub=mys.hub)[-1]
    draft = rule_set_copy_to_draft(actor=actor_for(mys.supervisor.user), rule_set=published)
    client.force_login(mys.supervisor.user)
    page = client.get(f"/admin/hubs/ruleset/{draft.pk}/change/").content.decode()
    assert 'name="lvg_rate" value="10"' in page
    assert "An amount in MYR." in page
    assert 'name="cbec_tax_factor"' not in page  # the editor offers its family's figures only
    client.force_login(mys.officer.user)
    assert "10%" in client.get(f"/admin/hubs/ruleset/{published.pk}/change/").content.decode()


def test_a_supervisor_withdraws_a_future_version_and_discards_a_draft_in_the_console(client, hgh, hgh_rules):
    # Given a version published for tomorrow, and a draft
    supervisor = actor_for(hgh.supervisor.user)
    tomorrow = hub_today(hgh.hub) + timedelta(days=1)
    future = rule_set_copy_to_draft(actor=supervisor, rule_set=hgh_rules[-1])
    future = rule_set_publish(actor=supervisor, rule_set=future, effective_from=tomorrow)
    draft = rule_set_copy_to_draft(actor=supervisor, rule_set=hgh_rules[-1])

    # An officer has neither action
    client.force_login(hgh.officer.user)
    client.post("/admin/hubs/ruleset/", {"action": "withdraw", "_selected_action": [future.pk]})
    client.post("/admin/hubs/ruleset/", {"action": "discard", "_selected_action": [draft.pk]})
    assert RuleSet.objects.get(pk=future.pk).status == "published"
    assert RuleSet.objects.get(pk=draft.pk).status == "draft"

    # A supervisor withdraws the future version (not the one in force) and discards the draft
    client.force_login(hgh.supervisor.user)
    response = client.post(
        "/admin/hubs/ruleset/", {"action": "withdraw", "_selected_action": [future.pk, hgh_rules[-1].pk]}, follow=True
    )
    messages = [str(message) for message in response.context["messages"]]
    assert "1 rule set withdrawn." in messages
    assert any("already_in_force" in m or "has been in force" in m for m in messages), messages
    client.post("/admin/hubs/ruleset/", {"action": "discard", "_selected_action": [draft.pk]})
    assert RuleSet.objects.get(pk=future.pk).status == "withdrawn"
    assert RuleSet.objects.get(pk=draft.pk).status == "discarded"
    assert RuleSet.objects.get(pk=hgh_rules[-1].pk).status == "published"
    assert {"rule_set.withdrawn", "rule_set.discarded"} <= set(AuditEvent.objects.values_list("verb", flat=True))
    assert rule_set_in_force(hgh.hub, tomorrow) == hgh_rules[-1]


# --- no dead ends: links, filters, refusals, people -------------------------------------------------------


def filter_choices(response):
    """Each filter of a changelist: the values it offers."""
    choices = {}
    for spec in response.context["cl"].filter_specs:
        if isinstance(spec, ScopedRelatedFieldListFilter):
            choices[spec.field_path] = [value for value, _ in spec.lookup_choices]
        elif isinstance(spec, ReachableStateListFilter):
            choices[spec.field_path] = [value for value, _ in spec.states]
    return choices


def test_hub_filters_list_only_the_officers_hubs(client, hgh, mys):
    # Given an officer serving HGH and MYS, and a third hub (YIW) with rules and events of its own
    yiw = make_tenant("YIW", "CN", "CNY", "Asia/Shanghai")
    MembershipFactory(user=hgh.officer.user, role=Role.HUB_OFFICER, hub=mys.hub)
    for tenant in (hgh, mys, yiw):
        rule_sets_load_reference(hub=tenant.hub)
        issue_key(tenant.supervisor, tenant.hub_integrator)
    client.force_login(hgh.officer.user)

    # Then each hub filter offers its two hubs, never the third
    own = [hgh.hub.pk, mys.hub.pk]
    assert filter_choices(client.get("/admin/hubs/company/"))["home_hub"] == own
    assert filter_choices(client.get("/admin/hubs/ruleset/"))["hub"] == own
    assert filter_choices(client.get("/admin/hubs/auditevent/"))["hubs"] == own
    assert str(yiw.hub) not in client.get("/admin/hubs/ruleset/").content.decode()


def test_the_rule_set_status_filter_lists_the_states_a_version_can_reach(client, hgh, hgh_rules):
    client.force_login(hgh.officer.user)
    assert filter_choices(client.get("/admin/hubs/ruleset/"))["status"] == [
        "draft",
        "discarded",
        "published",
        "withdrawn",
        "superseded",
    ]


def test_a_refusal_in_the_console_has_the_consoles_layout(client, hgh):
    client.force_login(hgh.officer.user)
    response = client.get(f"/admin/hubs/company/{hgh.company.pk}/delete/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "eHub officer console" in page
    assert "css/console.css" in page
    assert 'href="/admin/hubs/company/"' in page  # the officer's navigation
    assert "Back to your hub’s console" in page


def test_a_refusal_outside_the_console_keeps_djangos_page(rf):
    from django.core.exceptions import PermissionDenied

    from hubs.console import permission_denied

    response = permission_denied(rf.get("/listings/"), PermissionDenied())
    assert response.status_code == 403
    assert b"officer console" not in response.content


@pytest.mark.parametrize("page", ["change", "history", "password"])
def test_a_user_page_answers_404_alike_for_a_missing_and_a_foreign_user(client, hgh, mys, page):
    client.force_login(hgh.officer.user)
    missing = client.get(f"/admin/hubs/user/987654/{page}/")
    foreign = client.get(f"/admin/hubs/user/{mys.seller_admin.user.pk}/{page}/")
    assert (missing.status_code, foreign.status_code) == (404, 404)
    assert mys.seller_admin.user.username not in foreign.content.decode()


def test_an_officer_reads_the_people_of_its_hub_without_their_passwords(client, hgh, mys):
    client.force_login(hgh.officer.user)
    for person in (hgh.seller_admin, hgh.supervisor):
        assert client.get(f"/admin/hubs/user/{person.user.pk}/change/").status_code == 200
        assert client.get(f"/admin/hubs/user/{person.user.pk}/history/").status_code == 200
    page = client.get(f"/admin/hubs/user/{hgh.seller_admin.user.pk}/change/").content.decode()
    assert "md5$" not in page  # a hash of the tests' password hasher
    assert "Superuser status" not in page
    people = client.get("/admin/hubs/user/").content.decode()
    assert hgh.seller_admin.user.username in people
    assert mys.seller_admin.user.username not in people


def test_a_membership_links_its_person_and_hub_for_their_officer(client, hgh):
    client.force_login(hgh.officer.user)
    page = client.get(f"/admin/hubs/membership/{hgh.supervisor.pk}/change/").content.decode()
    assert f'href="/admin/hubs/user/{hgh.supervisor.user.pk}/change/"' in page
    assert f'href="/admin/hubs/hub/{hgh.hub.pk}/change/"' in page


def test_an_fx_rate_entered_by_another_hub_names_it_as_text(client, hgh, mys):
    from hubs.services import fx_rate_enter

    rate = fx_rate_enter(
        actor=actor_for(mys.supervisor.user),
        hub=mys.hub,
        base="EUR",
        quote="NGN",
        rate=Decimal("1700"),
        rate_date=hub_today(mys.hub),
    )
    client.force_login(hgh.officer.user)
    page = client.get(f"/admin/hubs/fxrate/{rate.pk}/change/").content.decode()
    assert str(mys.hub) in page
    assert f"/admin/hubs/hub/{mys.hub.pk}/" not in page
