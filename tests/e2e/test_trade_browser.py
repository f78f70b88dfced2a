"""A seller lists goods, quotes them into another hub and orders them, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from hubs.services import rule_sets_load_reference
from tests.e2e.test_login import log_in
from tests.tenants import make_tenant
from trade.models import Listing, Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CONSUMER = "330106199001011234"


def test_a_seller_lists_quotes_and_orders_a_handbag(page):
    yiw = make_tenant("YIW", "CN", "CNY", "Asia/Shanghai")
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    for hub in (yiw.hub, hgh.hub):
        rule_sets_load_reference(hub=hub)
    log_in(page, "/login/", yiw.seller_admin.user.username)

    # the seller lists a handbag
    page.get_by_role("link", name="Listings").click()
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Title").fill("Woven rattan handbag")
    page.get_by_label("HS code").fill("4202.21")
    page.get_by_label("Origin country").select_option("CN")
    expect(page.get_by_label("Unit price (CNY)")).to_be_visible()
    page.get_by_label("Unit price (CNY)").fill("500")
    page.get_by_label("Unit weight (kg)").fill("0.7")
    page.get_by_label("Length (cm)").fill("30")
    page.get_by_label("Width (cm)").fill("10")
    page.get_by_label("Height (cm)").fill("25")
    page.get_by_label("Stock").fill("10")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Create listing").click()
    expect(page.get_by_role("heading", name=re.compile(r"^LST-\w+ Woven rattan handbag$"))).to_be_visible()
    listing = Listing.objects.get()
    expect(page.locator(".verdict-allowed", has_text="HGH")).to_be_visible()

    # runs the quote calculator for it, into Hangzhou, for a consumer
    page.get_by_role("link", name="Quote calculator").click()
    expect(page.get_by_text("Amounts are in the destination hub's currency")).to_be_visible()
    page.get_by_label("Origin hub").select_option("YIW")
    page.get_by_label("Destination hub").select_option("HGH")
    page.get_by_label("Consumer ID number").fill(CONSUMER)
    page.get_by_label("Line 1 listing").select_option(listing.public_id)
    page.get_by_label("Line 1 quantity").fill("2")
    page.get_by_role("button", name="Calculate quote").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Quote QUO-"))).to_be_visible()
    expect(page.get_by_text("CBEC retail import")).to_be_visible()
    expect(page.locator(".tax-vat")).to_contain_text("CN¥91.00")

    # places the order for that consumer
    page.get_by_label("Name").fill("Li Wei")
    page.get_by_label("ID number").fill(CONSUMER)
    page.get_by_label("Address").fill("1 Wensan Road")
    page.get_by_label("City").fill("Hangzhou")
    page.get_by_role("button", name="Place order").click()

    # and sees the order with its timeline
    expect(page.get_by_role("heading", name=re.compile(r"^Order ORD-"))).to_be_visible()
    order = Order.objects.get()
    expect(page.get_by_text(f"{order.public_id} is placed.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("order.placed")
    expect(page.get_by_text("**************1234")).to_be_visible()
    assert Listing.objects.get().stock == 8
