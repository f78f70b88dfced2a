"""A person logs into the portal and into the officer console, in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.tenants import make_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, url, username, password=PASSWORD):
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_seller_logs_into_the_portal_and_out(page):
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")

    log_in(page, "/login/", hgh.seller_admin.user.username, password="wrong")
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()

    log_in(page, "/login/", hgh.seller_admin.user.username)
    expect(page.get_by_role("heading", name=hgh.company.legal_name)).to_be_visible()
    expect(page.get_by_text("Seller admin")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to eHub")).to_be_visible()


def test_an_officer_logs_into_the_console_and_sees_only_its_hub(page):
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    mys = make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur")

    log_in(page, "/admin/login/", mys.officer.user.username)
    expect(page.get_by_role("heading", name="Your hub")).to_be_visible()
    page.get_by_role("link", name="Companies").first.click()
    expect(page.get_by_role("link", name=mys.company.legal_name)).to_be_visible()
    expect(page.get_by_text(hgh.company.legal_name)).to_have_count(0)

    response = page.goto(f"/admin/hubs/company/{hgh.company.pk}/change/")
    assert response.status == 404
