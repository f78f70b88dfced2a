"""The portal on a phone: at 390 px wide, no page is wider than the viewport (nothing scrolls sideways).

A seller walks home, listings, a quote, an order and every other page it reaches (its forms filled, its
confirmations opened), then every link of the portal is followed from those pages; each page is measured."""

import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from hubs.models import Company
from hubs.services import rule_sets_load_reference
from tests.conftest import ecb_rates_on
from tests.e2e.test_login import log_in
from tests.tenants import issue_key, make_tenant
from tests.trade.conftest import make_listing
from trade.models import Order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH = 390
CONSUMER = "330106199001011234"
# Where a link crawl does not go: another front door, a file, or out of the session.
NOT_PORTAL = ("/admin/", "/api/", "/static/", "/logout/")


@pytest.fixture
def phone(browser, live_server, hs_nomenclature):
    """A page in a 390 × 844 viewport, as on a phone."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []  # as the `page` fixture does: no page may break the Content-Security-Policy
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    yield page
    context.close()
    assert not violations, "\n".join(violations)


class Walk:
    """Measures each page it is shown; remembers what it measured and what did not fit."""

    def __init__(self, page):
        self.page, self.seen, self.too_wide = page, set(), {}

    def check(self):
        self.page.wait_for_load_state()
        width = self.page.evaluate("document.documentElement.scrollWidth")
        path = urlsplit(self.page.url).path
        self.seen.add(path)
        if width > WIDTH:
            self.too_wide[self.page.url] = width
        return width

    def goto(self, url):
        response = self.page.goto(url)
        assert response.status < 400, (url, response.status)
        return self.check()

    def links(self):
        hrefs = self.page.eval_on_selector_all("a[href]", "links => links.map(link => link.getAttribute('href'))")
        return {href.split("#")[0] for href in hrefs if href.startswith("/") and not href.startswith(NOT_PORTAL)}


def test_no_portal_page_is_wider_than_a_phone(phone):
    # given a Malaysian seller (verified, with a long company name) that sells into Hangzhou at the ECB rate
    mys = make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur")
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    Company.objects.filter(pk=mys.company.pk).update(
        verified=True, legal_name="Selangor Durian Delights and Traditional Batik Handicrafts Sdn. Bhd."
    )
    mys.company.refresh_from_db()
    for hub in (mys.hub, hgh.hub):
        rule_sets_load_reference(hub=hub)
    ecb_rates_on(date(2026, 10, 30), {"CNY": Decimal("7.8"), "MYR": Decimal("5.0")})
    listing = make_listing(mys, hs_code="610910", price="120.00", title="Hand-drawn batik T-shirt, indigo, size XL")
    issue_key(mys.seller_admin, mys.company_integrator, name="Shop ERP production, Penang warehouse")
    walk = Walk(phone)

    # the login page, then home
    walk.goto("/login/")
    log_in(phone, "/login/", mys.seller_admin.user.username)
    expect(phone.get_by_role("heading", name=mys.company.legal_name)).to_be_visible()
    walk.check()

    # listings: the list, a new one, its page and its edit form
    walk.goto("/listings/")
    walk.goto("/listings/new/")
    phone.get_by_label("Title").fill("Batik sarong")
    phone.get_by_label("HS code").fill("6208.92")
    phone.get_by_label("Unit price (MYR)").fill("95")
    phone.get_by_label("Unit weight (kg)").fill("0.3")
    phone.get_by_label("Length (cm)").fill("30")
    phone.get_by_label("Width (cm)").fill("20")
    phone.get_by_label("Height (cm)").fill("2")
    phone.get_by_label("Stock").fill("12")
    phone.get_by_label("Status").select_option("active")
    phone.get_by_role("button", name="Create listing").click()
    expect(phone.get_by_role("heading", name=re.compile(r"^LST-\w+ Batik sarong$"))).to_be_visible()
    walk.check()
    walk.goto(f"/listings/{listing.public_id}/")
    walk.goto(f"/listings/{listing.public_id}/edit/")
    walk.goto(f"/listings/{listing.public_id}/archive/")

    # a quote of the listing, from its page, into Hangzhou: the calculator and the quote
    walk.goto(f"/listings/{listing.public_id}/")
    phone.get_by_role("link", name="Quote this listing").click()
    walk.check()
    phone.get_by_label("Destination hub").select_option("HGH")
    phone.get_by_label("Consumer ID number").fill(CONSUMER)
    phone.get_by_label("Line 1 quantity").fill("2")
    phone.get_by_role("button", name="Calculate quote").click()
    expect(phone.get_by_role("heading", name=re.compile(r"^Quote QUO-"))).to_be_visible()
    walk.check()

    # an order from it: the order page, the orders list with its filters open, the cancel confirmation
    phone.get_by_label(re.compile(r"^Name")).fill("Li Wei")
    phone.get_by_label("ID number").fill(CONSUMER)
    phone.get_by_label("Address").fill("1 Wensan Road, Xihu District")
    phone.get_by_label("City").fill("Hangzhou")
    phone.get_by_role("button", name="Place order").click()
    expect(phone.get_by_role("heading", name=re.compile(r"^Order ORD-"))).to_be_visible()
    walk.check()
    order = Order.objects.get()
    walk.goto("/orders/?status=placed")
    walk.goto(f"/orders/{order.public_id}/cancel/")
    walk.goto("/quotes/")

    # the other pages: HS codes, API keys with a key just issued, the team with an invitation just made
    walk.goto("/hs-codes/?q=cotton")
    walk.goto("/hs-codes/?q=6109.10.00")
    walk.goto("/api-keys/")
    phone.get_by_label(re.compile(r"^Name")).fill("Marketplace connector for the Shopee and Lazada stores")
    phone.get_by_role("button", name="Issue key").click()
    expect(phone.locator("#issued-key")).to_be_visible()
    walk.check()
    walk.goto("/team/")
    phone.get_by_label("Username").fill("nur.aisyah.binti.abdullah.operations")
    phone.get_by_label("Email").fill("nur.aisyah.binti.abdullah@selangor-durian-delights.example.com")
    phone.get_by_role("button", name="Invite").click()
    expect(phone.locator("#invitation-link")).to_be_visible()
    walk.check()
    walk.goto("/password/")

    # and then every page the portal links to from the pages walked, and from those, measured likewise
    queue = sorted(walk.links() | {"/", "/listings/", "/quotes/", "/orders/", "/api-keys/", "/team/"})
    followed = set()
    while queue and len(followed) < 80:
        url = queue.pop(0)
        if url in followed:
            continue
        followed.add(url)
        walk.goto(url)
        queue.extend(sorted(walk.links() - followed))

    # then no page was wider than the phone
    assert not walk.too_wide, f"pages wider than {WIDTH}px: {walk.too_wide}"
    expected = {
        "/",
        "/listings/",
        "/listings/new/",
        f"/listings/{listing.public_id}/",
        f"/listings/{listing.public_id}/edit/",
        f"/listings/{listing.public_id}/archive/",
        "/quotes/new/",
        "/quotes/",
        f"/quotes/{order.quote.public_id}/",
        "/orders/",
        f"/orders/{order.public_id}/",
        f"/orders/{order.public_id}/cancel/",
        "/hs-codes/",
        "/api-keys/",
        "/team/",
        "/password/",
        "/money/",
    }
    assert expected <= walk.seen, expected - walk.seen
    revoke = [path for path in walk.seen if re.fullmatch(r"/api-keys/\w+/revoke/", path)]
    assert revoke, "the walk reached no key's revoke confirmation"
