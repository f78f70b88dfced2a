"""The Content-Security-Policy holds in a real browser: the interactive API docs run with it, and an
inline script is refused (which is how the `page` fixture catches any page that needs one)."""

import pytest
from playwright.sync_api import Error, expect

from tests.e2e.test_login import log_in
from tests.tenants import make_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_under_the_policy(page):
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    log_in(page, "/login/", hgh.seller_admin.user.username)
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()


def test_an_inline_script_is_refused_and_reported(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    reports = []
    page.on("console", lambda message: reports.append(message.text))
    page.goto("/login/")
    with pytest.raises(Error, match="violates the following Content Security Policy directive"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in report for report in reports)
    context.close()
