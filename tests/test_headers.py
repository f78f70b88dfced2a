"""What every answer carries: a Content-Security-Policy without inline code, a Permissions-Policy, and
no-store on anything private (tests/trade/test_private_answers.py)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [reverse("login"), reverse("admin:login"), "/api/docs/", "/healthz"])
def test_every_page_has_a_strict_content_security_policy_and_a_permissions_policy(client, url):
    response = client.get(url)
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_the_api_docs_run_no_inline_script(client):
    page = client.get("/api/docs/").content.decode()
    assert "<script>" not in page
    assert "<style>" not in page
