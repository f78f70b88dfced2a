"""Brute force and floods: login lockout on the portal and the console, API throttling per key, per user
and per address, and a limit on guessed API keys. Each is answered 429, and the API's in the error shape
with a Retry-After."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.tenants import issue_key, key_client, session_client

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-passphrase-2026"


@pytest.fixture
def seller_user(hgh):
    user = hgh.seller_admin.user
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def officer_user(hgh):
    user = hgh.officer.user
    user.set_password(PASSWORD)
    user.save()
    return user


def throttled(response):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    return body["errors"][0]["detail"]


def rates(settings, **changed):
    settings.REST_FRAMEWORK = {
        **django_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changed},
    }


@pytest.mark.parametrize("login_url", [reverse("login"), reverse("admin:login")])
def test_wrong_passwords_lock_the_login_and_then_the_right_one_is_refused(client, seller_user, officer_user, login_url):
    user = seller_user if login_url == reverse("login") else officer_user
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(login_url, {"username": user.username, "password": "guess"})
        assert response.status_code == 200  # the form again, with its error

    locked = client.post(login_url, {"username": user.username, "password": "guess"})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    again = client.post(login_url, {"username": user.username, "password": PASSWORD})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_right_password_before_the_limit_clears_the_failures(client, seller_user):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": seller_user.username, "password": "guess"})
    assert client.post(reverse("login"), {"username": seller_user.username, "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(reverse("login"), {"username": seller_user.username, "password": "x"}).status_code == 200


def test_one_user_locked_out_does_not_lock_another(client, seller_user, officer_user):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": seller_user.username, "password": "guess"})
    assert client.post(reverse("login"), {"username": officer_user.username, "password": PASSWORD}).status_code == 302


def test_guessed_api_keys_lock_the_address_out_even_for_the_right_key(hgh, settings):
    rates(settings, api_key_failures="10/hour")
    _, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    prefix = key.partition(".")[0]
    for attempt in range(10):
        response = key_client(f"{prefix}.guess{attempt:04d}").get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "invalid_api_key"

    assert "wrong API keys" in throttled(key_client(f"{prefix}.guess-again").get("/api/v1/me/"))
    throttled(key_client(key).get("/api/v1/me/"))


def test_guesses_from_one_address_do_not_lock_out_another(hgh, settings):
    rates(settings, api_key_failures="3/hour")
    _, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    for _ in range(3):
        key_client("nope.nope").get("/api/v1/me/", REMOTE_ADDR="203.0.113.9")
    throttled(key_client("nope.nope").get("/api/v1/me/", REMOTE_ADDR="203.0.113.9"))
    assert key_client(key).get("/api/v1/me/", REMOTE_ADDR="203.0.113.10").status_code == 200


def test_a_forwarded_for_header_does_not_escape_the_limit_without_a_trusted_proxy(hgh, settings):
    rates(settings, api_key_failures="3/hour")
    for attempt in range(4):
        response = key_client("nope.nope").get("/api/v1/me/", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    throttled(response)


def test_an_api_key_is_throttled_per_key(hgh, settings):
    rates(settings, client="5/min")
    _, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    _, other_key = issue_key(hgh.seller_admin, hgh.company_integrator, name="Other ERP")
    client = key_client(key)
    for _ in range(5):
        assert client.get("/api/v1/hubs/").status_code == 200
    throttled(client.get("/api/v1/hubs/"))
    assert key_client(other_key).get("/api/v1/hubs/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_a_signed_in_user_is_throttled_and_so_is_an_address(hgh, mys, settings):
    rates(settings, client="3/min", address="5/min")
    seller = session_client(hgh.seller_admin)
    for _ in range(3):
        assert seller.get("/api/v1/me/").status_code == 200
    throttled(seller.get("/api/v1/me/"))
    # another user from the same address has a client budget of its own, but the address's is spent
    other = session_client(mys.seller_admin)
    assert other.get("/api/v1/me/").status_code == 200
    throttled(other.get("/api/v1/me/"))
    assert other.get("/api/v1/me/", REMOTE_ADDR="192.0.2.8").status_code == 200
