"""A Malaysian seller lists goods priced in MYR, quotes them into Hangzhou in CNY at the reference rate
and orders them, in a real browser."""

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from hubs.models import Company
from hubs.services import rule_sets_load_reference
from tests.conftest import ecb_rates_on
from tests.e2e.test_login import log_in
from tests.tenants import make_tenant
from trade.models import Listing, Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CONSUMER = "330106199001011234"


def test_a_malaysian_seller_quotes_into_hangzhou_at_the_rate_and_orders(page):
    mys = make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur")
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    Company.objects.filter(pk=mys.company.pk).update(verified=True)  # its hub has verified it: it orders
    for hub in (mys.hub, hgh.hub):
        rule_sets_load_reference(hub=hub)
    ecb_rates_on(date(2026, 10, 30), {"CNY": Decimal("7.8"), "MYR": Decimal("5.0")})  # MYR 1 = CNY 1.56
    log_in(page, "/login/", mys.seller_admin.user.username)

    # the seller lists a batik T-shirt, priced in its home currency
    page.get_by_role("link", name="Listings").click()
    page.get_by_role("link", name="New listing").click()
    page.get_by_label("Title").fill("Hand-drawn batik T-shirt")
    page.get_by_label("HS code").fill("6109.10")
    page.get_by_label("Origin country").select_option("MY")
    page.get_by_label("Unit price (MYR)").fill("120")
    page.get_by_label("Unit weight (kg)").fill("0.25")
    page.get_by_label("Length (cm)").fill("30")
    page.get_by_label("Width (cm)").fill("25")
    page.get_by_label("Height (cm)").fill("3")
    page.get_by_label("Stock").fill("10")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Create listing").click()
    expect(page.get_by_role("heading", name=re.compile(r"^LST-\w+ Hand-drawn batik T-shirt$"))).to_be_visible()
    listing = Listing.objects.get()
    expect(page.locator(".verdict-quotable", has_text="HGH")).to_be_visible()

    # runs the quote calculator for it, into Hangzhou, for a consumer
    page.get_by_role("link", name="Quote calculator").click()
    page.get_by_label("Origin hub").select_option("MYS")
    page.get_by_label("Destination hub").select_option("HGH")
    page.get_by_label("Consumer ID number").fill(CONSUMER)
    page.get_by_label("Line 1 listing").select_option(listing.public_id)
    page.get_by_label("Line 1 quantity").fill("2")
    page.get_by_role("button", name="Calculate quote").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Quote QUO-"))).to_be_visible()
    expect(page.get_by_text("CBEC retail import")).to_be_visible()

    # and sees the price converted at the rate, with its date
    expect(page.locator(".conversions")).to_contain_text("MYR 120.00 × 1.56 (ECB 2026-10-30, via EUR) = CNY 187.20")

    # places the order for that consumer
    page.get_by_label("Name").fill("Li Wei")
    page.get_by_label("ID number").fill(CONSUMER)
    page.get_by_label("Address").fill("1 Wensan Road")
    page.get_by_label("City").fill("Hangzhou")
    page.get_by_role("button", name="Place order").click()

    # and sees the order with its timeline, in sentences
    expect(page.get_by_role("heading", name=re.compile(r"^Order ORD-"))).to_be_visible()
    order = Order.objects.get()
    expect(page.get_by_text(f"{order.public_id} is placed.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text(f"Placed by {mys.seller_admin.user.username} for {mys.company}")
    expect(page.get_by_text("**************1234")).to_be_visible()
    assert (order.goods.amount, order.goods.currency.code) == (Decimal("374.40"), "CNY")
    assert Listing.objects.get().stock == 8

    # and cancels it: the page asks to confirm, and for the reason
    page.get_by_role("link", name="Cancel order…").click()
    expect(page.get_by_text("Are you sure?")).to_be_visible()
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("Reason").fill("The buyer changed their mind")
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_text(f"{order.public_id} is cancelled; its units are back on stock.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Cancelled by")
    assert Listing.objects.get().stock == 10
