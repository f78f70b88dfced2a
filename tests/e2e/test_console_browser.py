"""The officer console has no dead ends, in a real browser: every console link on an order's page opens for
the officers of both hubs of the order, an uninvolved hub's officer meets no link to it, and the draft
editor of a rule set fits a 1280 px screen."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from hubs.models import RuleSet
from hubs.scoping import actor_for
from hubs.services import company_verify, rule_set_copy_to_draft, rule_sets_load_reference
from tests.conftest import ecb_rates_on
from tests.e2e.test_login import log_in
from tests.tenants import make_tenant
from tests.trade.conftest import BUYER, make_listing, quote_listing
from trade.services import order_place

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def an_order_from_mys_into_hgh():
    """A Malaysian seller's batik T-shirts ordered into Hangzhou; Yiwu is a third hub, not on the route."""
    tenants = {
        "MYS": make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur"),
        "HGH": make_tenant("HGH", "CN", "CNY", "Asia/Shanghai"),
        "YIW": make_tenant("YIW", "CN", "CNY", "Asia/Shanghai"),
    }
    mys, hgh = tenants["MYS"], tenants["HGH"]
    for tenant in tenants.values():
        rule_sets_load_reference(hub=tenant.hub)
    company_verify(actor=actor_for(mys.supervisor.user), company=mys.company)
    ecb_rates_on(timezone.localdate() - timedelta(days=1), {"CNY": Decimal("7.8"), "MYR": Decimal("5.0")})
    listing = make_listing(mys, hs_code="610910", price="120.00", title="Hand-drawn batik T-shirt")
    order = order_place(
        actor=actor_for(mys.seller_admin.user), quote=quote_listing(mys, hgh, listing, quantity=2), buyer=BUYER
    )
    return tenants, order


def console_links(page):
    """Every link of the page into the console (/admin/), once each (a link to a part of a page is to the page)."""
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    return sorted({href.partition("#")[0] for href in hrefs if urlparse(href).path.startswith("/admin/")})


def dead_ends(page, links):
    """The links among `links` that answer 403 or 404 when opened."""
    dead = []
    for link in links:
        response = page.goto(link)
        if response.status in (403, 404):
            dead.append(f"{link} → {response.status}")
    return dead


@pytest.mark.parametrize("hub", ["MYS", "HGH"])
@pytest.mark.parametrize("role", ["officer", "supervisor"])
def test_every_console_link_on_an_order_page_opens_for_the_officers_of_both_hubs(page, hub, role):
    # Given an order from MYS into HGH, and an officer of one of its hubs signed in to the console
    tenants, order = an_order_from_mys_into_hgh()
    log_in(page, "/admin/login/", getattr(tenants[hub], role).user.username)

    # When the officer opens the order's page
    response = page.goto(f"/admin/trade/order/{order.pk}/change/")
    assert response.status == 200
    expect(page.get_by_text(order.public_id).first).to_be_visible()
    links = console_links(page)

    # Then the page links to the order's rows of the officer's own hub, and to no other hub's
    own, other = tenants[hub], tenants["HGH" if hub == "MYS" else "MYS"]
    paths = {urlparse(link).path for link in links}
    assert f"/admin/hubs/hub/{own.hub.pk}/change/" in paths
    assert f"/admin/hubs/hub/{other.hub.pk}/change/" not in paths
    assert (f"/admin/hubs/company/{tenants['MYS'].company.pk}/change/" in paths) == (hub == "MYS")
    assert f"/admin/trade/quote/{order.quote_id}/change/" in paths

    # And every console link on it opens
    assert not dead_ends(page, links)


def test_an_officer_of_an_uninvolved_hub_meets_no_link_to_the_order(page):
    tenants, order = an_order_from_mys_into_hgh()
    log_in(page, "/admin/login/", tenants["YIW"].officer.user.username)

    # The order itself answers 404, as if it did not exist
    assert page.goto(f"/admin/trade/order/{order.pk}/change/").status == 404

    # and the officer's orders page, filters included, neither shows it nor leads to a dead end
    assert page.goto("/admin/trade/order/").status == 200
    expect(page.get_by_text(order.public_id)).to_have_count(0)
    links = console_links(page)
    assert not [link for link in links if f"/trade/order/{order.pk}/" in link]
    assert not dead_ends(page, links)


def test_the_draft_editor_fits_a_1280_px_screen_and_edits_rates_in_percent(page):
    # Given a supervisor of HGH with a new draft of its rules, on a 1280 px wide screen
    hgh = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    in_force = rule_sets_load_reference(hub=hgh.hub)[-1]
    draft = rule_set_copy_to_draft(actor=actor_for(hgh.supervisor.user), rule_set=in_force)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, "/admin/login/", hgh.supervisor.user.username)

    # When it opens the draft
    page.goto(f"/admin/hubs/ruleset/{draft.pk}/change/")

    # Then nothing runs past the screen's right edge
    bags = list(draft.rates.values_list("hs_prefix", flat=True)).index("4202")
    expect(page.locator(f"#id_rates-{bags}-vat_rate")).to_have_value("13")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    # And a rate is entered in percent, a consumption-tax threshold as an amount in the hub's currency
    cosmetics = list(draft.rates.values_list("hs_prefix", flat=True)).index("3304")
    page.locator(f"#id_rates-{bags}-vat_rate").fill("16.5")
    page.get_by_label("CNY per g").nth(cosmetics).fill("12")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    draft = RuleSet.objects.get(pk=draft.pk)
    assert draft.rates.get(hs_prefix="4202").vat_rate == Decimal("0.165")
    assert draft.rates.get(hs_prefix="3304").consumption_tax_min_unit_price == {"g": "12", "ml": "10", "piece": "15"}
