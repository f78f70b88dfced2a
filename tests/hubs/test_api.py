from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.models import ApiKey
from hubs.scoping import actor_for
from hubs.services import api_key_revoke
from tests.factories import CompanyFactory
from tests.tenants import issue_key, key_client, session_client


def error_codes(response):
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    return [error["code"] for error in body["errors"]]


# --- authentication -------------------------------------------------------------------------------


def test_an_api_key_authenticates_as_its_integrator_with_its_membership_only(hgh):
    _, key = issue_key(hgh.seller_admin, hgh.company_integrator, name="Shop ERP")

    response = key_client(key).get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == hgh.company_integrator.user.username
    assert body["api_key"]["name"] == "Shop ERP"
    assert [m["company"]["legal_name"] for m in body["memberships"]] == [hgh.company.legal_name]


def test_a_session_sees_all_its_memberships(hgh):
    body = session_client(hgh.officer).get("/api/v1/me/").json()
    assert body["api_key"] is None
    assert [(m["role"], m["hub"]["code"]) for m in body["memberships"]] == [("hub_officer", "HGH")]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Api-Key", "malformed_api_key"),
        ("Api-Key one two", "malformed_api_key"),
        ("Api-Key no-dot-in-it", "invalid_api_key"),
        ("Api-Key abcdefgh.not-the-secret", "invalid_api_key"),
    ],
)
def test_a_malformed_or_unknown_key_is_refused_with_401(db, client, header, code):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert error_codes(response) == [code]
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_wrong_secret_for_a_real_prefix_is_refused(hgh):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    response = key_client(f"{api_key.prefix}.{'x' * 32}").get("/api/v1/me/")
    assert response.status_code == 401


def test_a_revoked_key_is_refused(hgh):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    assert key_client(key).get("/api/v1/me/").status_code == 200

    api_key_revoke(actor=actor_for(hgh.seller_admin.user), api_key=api_key)

    response = key_client(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert error_codes(response) == ["invalid_api_key"]


def test_an_expired_key_is_refused(hgh):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    ApiKey.objects.filter(pk=api_key.pk).update(expiry_date=timezone.now() - timedelta(seconds=1))
    response = key_client(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert error_codes(response) == ["expired_api_key"]


def test_a_deactivated_integrator_keys_stop_working(hgh):
    _, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    hgh.company_integrator.user.is_active = False
    hgh.company_integrator.user.save()
    assert key_client(key).get("/api/v1/me/").status_code == 401


def test_a_key_is_stamped_without_the_broker_and_at_most_once_a_minute(
    hgh, unreachable_broker, django_capture_on_commit_callbacks, django_assert_num_queries
):
    api_key, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    client = key_client(key)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.get("/api/v1/me/").status_code == 200
    assert callbacks == []  # nothing waits on the broker
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None

    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=None)  # even if the row says never
    with django_assert_num_queries(2):  # the key and its member, then /me/'s memberships: no UPDATE
        assert client.get("/api/v1/me/").status_code == 200
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at is None


def test_no_credentials_is_401_with_the_error_shape(db, client):
    response = client.get("/api/v1/companies/")
    assert response.status_code == 401
    assert error_codes(response) == ["not_authenticated"]


# --- hubs -----------------------------------------------------------------------------------------


def test_the_hub_directory_lists_active_hubs_by_code(hgh, mys):
    mys.hub.active = False
    mys.hub.save()
    response = session_client(hgh.seller_admin).get("/api/v1/hubs/")
    assert [hub["code"] for hub in response.json()] == ["HGH"]
    assert response.json()[0] == {
        "code": "HGH",
        "name": hgh.hub.name,
        "country": "CN",
        "currency": "CNY",
        "timezone": "Asia/Shanghai",
    }


def test_an_unknown_hub_code_is_404_with_the_error_shape(hgh):
    response = session_client(hgh.seller_admin).get("/api/v1/hubs/XXX/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


# --- companies: tenant isolation -------------------------------------------------------------------

ROLES = ["seller_admin", "seller_staff", "company_integrator", "officer", "supervisor", "hub_integrator"]


@pytest.mark.parametrize("role", ROLES)
def test_another_tenants_company_is_404_for_every_session_role(hgh, mys, role):
    client = session_client(getattr(mys, role))
    response = client.get(f"/api/v1/companies/{hgh.company.pk}/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]
    assert hgh.company.pk not in [c["id"] for c in client.get("/api/v1/companies/").json()["results"]]


@pytest.mark.parametrize(
    ("issuer", "integrator"), [("seller_admin", "company_integrator"), ("supervisor", "hub_integrator")]
)
def test_another_tenants_company_is_404_for_an_api_key(hgh, mys, issuer, integrator):
    _, key = issue_key(getattr(mys, issuer), getattr(mys, integrator))
    client = key_client(key)
    assert client.get(f"/api/v1/companies/{hgh.company.pk}/").status_code == 404
    assert client.get(f"/api/v1/companies/{mys.company.pk}/").status_code == 200
    assert [c["id"] for c in client.get("/api/v1/companies/").json()["results"]] == [mys.company.pk]


def test_company_list_does_not_grow_queries_with_rows(hgh, django_assert_max_num_queries):
    CompanyFactory.create_batch(20, home_hub=hgh.hub)
    client = session_client(hgh.officer)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/companies/")
    assert response.json()["count"] == 21


# --- HS codes ---------------------------------------------------------------------------------------


def test_hs_search_by_code_prefix(hgh):
    rows = session_client(hgh.seller_admin).get("/api/v1/hs-codes/?q=3304").json()["results"]
    assert [row["code"] for row in rows] == ["3304", "330410", "330420", "330430", "330491", "330499"]


def test_hs_search_by_words_needs_every_word(hgh):
    rows = session_client(hgh.seller_admin).get("/api/v1/hs-codes/?q=green tea").json()["results"]
    codes = [row["code"] for row in rows]
    assert "090210" in codes
    assert all("green" in row["description"].lower() and "tea" in row["description"].lower() for row in rows)


def test_hs_code_retrieve_and_unknown(hgh):
    client = session_client(hgh.seller_admin)
    assert client.get("/api/v1/hs-codes/330499/").json()["parent"] == "3304"
    response = client.get("/api/v1/hs-codes/339999/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [("330499", "330499"), ("3304.99.00", "33049900"), ("3304 99 00 10", "3304990010"), ("330499001", "330499001")],
)
def test_hs_validate_accepts_subheadings_and_national_extensions(hgh, raw, code):
    response = session_client(hgh.seller_admin).get("/api/v1/hs-codes/validate/", {"code": raw})
    assert response.status_code == 200
    assert response.json()["code"] == code
    assert response.json()["subheading"]["code"] == "330499"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "hs_code_malformed"),
        ("3304", "hs_code_malformed"),
        ("3304991", "hs_code_malformed"),
        ("33049900001", "hs_code_malformed"),
        ("33O499", "hs_code_malformed"),
        ("339999", "hs_code_unknown"),
        ("99999900", "hs_code_unknown"),
    ],
)
def test_hs_validate_refuses_bad_codes_with_400(hgh, raw, code):
    response = session_client(hgh.seller_admin).get("/api/v1/hs-codes/validate/", {"code": raw})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert response.json()["errors"][0]["attr"] == "code"


# --- schema, docs, unknown paths ----------------------------------------------------------------------


def test_openapi_schema_and_docs_are_served_without_a_cdn(db, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/hs-codes/validate/" in schema.json()["paths"]
    assert "ApiKeyAuth" in schema.json()["components"]["securitySchemes"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_an_unknown_api_path_is_a_json_404(db, client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]
