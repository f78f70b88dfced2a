"""The officer console: every page scoped to the officer's hub; actions go through services."""

import pytest

from hubs.models import ApiKey, AuditEvent, Company
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
