"""Officer console pages of trade rows: an officer sees its hub's rows and gets 404 on others'."""

import re
from html import unescape

import pytest

from hubs.scoping import actor_for
from tests.trade.conftest import BUYER, CONSUMER, quote_listing
from trade.models import ORDER_TRANSITIONS, Order, OrderStatus
from trade.services import order_place


@pytest.fixture
def trade_rows(hkg, hgh, handbag):
    """A Hong Kong seller's handbag, quoted and ordered into Hangzhou."""
    quote = quote_listing(hkg, hgh, handbag)
    order = order_place(actor=actor_for(hkg.seller_admin.user), quote=quote, buyer=BUYER)
    return {"listing": handbag.pk, "quote": quote.pk, "order": order.pk}


@pytest.mark.parametrize("role", ["officer", "supervisor"])
@pytest.mark.parametrize("tenant", ["mys", "yiw"])  # YIW is in China too, but not on the route
def test_an_officer_of_an_unconcerned_hub_gets_404(client, request, trade_rows, tenant, role):
    client.force_login(getattr(request.getfixturevalue(tenant), role).user)
    for model, pk in trade_rows.items():
        assert client.get(f"/admin/trade/{model}/{pk}/change/").status_code == 404, model
        assert client.get(f"/admin/trade/{model}/").context["cl"].result_count == 0


@pytest.mark.parametrize("tenant", ["hkg", "hgh"])
def test_officers_of_the_origin_and_destination_see_the_order(client, request, trade_rows, tenant):
    client.force_login(request.getfixturevalue(tenant).officer.user)
    page = client.get(f"/admin/trade/order/{trade_rows['order']}/change/")
    assert page.status_code == 200
    assert "Woven rattan handbag" in page.content.decode()
    assert CONSUMER not in page.content.decode()


# --- no dead ends: a link leads only where the officer may go ---------------------------------------------


def console_links(page):
    """The console paths a page links to (a link to a part of a page is to the page)."""
    return set(re.findall(r'href="(/admin/[^"#]*)', page))


@pytest.mark.parametrize("role", ["officer", "supervisor"])
@pytest.mark.parametrize("tenant", ["hkg", "hgh"])
@pytest.mark.parametrize("model", ["order", "quote"])
def test_every_console_link_on_an_order_or_quote_page_opens(client, request, trade_rows, tenant, role, model):
    # Given an officer of the order's origin (HKG) or destination (HGH) on the order's or quote's page
    client.force_login(getattr(request.getfixturevalue(tenant), role).user)
    page = client.get(f"/admin/trade/{model}/{trade_rows[model]}/change/")
    assert page.status_code == 200

    # When it opens every console link of the page, then none is a dead end
    links = console_links(page.content.decode())
    dead = {link: status for link in links if (status := client.get(unescape(link)).status_code) in (403, 404)}
    assert not dead


@pytest.mark.parametrize(
    ("tenant", "linked", "text_only"),
    [
        ("hkg", ["company", "origin_hub", "listing", "placed_by"], ["destination_hub", "rule_set"]),
        ("hgh", ["destination_hub", "rule_set"], ["company", "origin_hub", "listing", "placed_by"]),
    ],
)
def test_another_hubs_rows_are_named_as_text(client, request, trade_rows, hkg, hgh, tenant, linked, text_only):
    order = Order.objects.select_related("quote__rule_set", "company", "placed_by").get(pk=trade_rows["order"])
    urls = {
        "company": f"/admin/hubs/company/{order.company_id}/change/",
        "origin_hub": f"/admin/hubs/hub/{hkg.hub.pk}/change/",
        "destination_hub": f"/admin/hubs/hub/{hgh.hub.pk}/change/",
        "listing": f"/admin/trade/listing/{trade_rows['listing']}/change/",
        "placed_by": f"/admin/hubs/user/{order.placed_by_id}/change/",
        "rule_set": f"/admin/hubs/ruleset/{order.quote.rule_set_id}/change/",
    }
    client.force_login(request.getfixturevalue(tenant).officer.user)
    shown = console_links(client.get(f"/admin/trade/order/{order.pk}/change/").content.decode())
    shown |= console_links(client.get(f"/admin/trade/quote/{order.quote_id}/change/").content.decode())
    assert {name for name in linked if urls[name] not in shown} == set()
    assert {name for name in text_only if urls[name] in shown} == set()


def test_order_filters_list_only_the_officers_hubs_and_the_states_an_order_can_reach(
    client, hgh, trade_rows, monkeypatch
):
    client.force_login(hgh.officer.user)
    filters = {spec.field_path: spec for spec in client.get("/admin/trade/order/").context["cl"].filter_specs}

    # The hub filters offer the officer's hub only: with one hub, there is nothing to pick
    for name in ("origin_hub", "destination_hub"):
        assert name not in filters or [pk for pk, _ in filters[name].lookup_choices] == [hgh.hub.pk]

    # The status filter offers each state an order can reach from "placed", in the order of the choices
    assert [value for value, _ in filters["status"].states] == [value for value, _ in OrderStatus.choices]

    # and none that it cannot: a state the map no longer reaches is not offered
    journey = {state: targets - {OrderStatus.REFUNDED} for state, targets in ORDER_TRANSITIONS.items()}
    monkeypatch.setattr(Order, "TRANSITIONS", journey)
    filters = {spec.field_path: spec for spec in client.get("/admin/trade/order/").context["cl"].filter_specs}
    assert OrderStatus.REFUNDED not in [value for value, _ in filters["status"].states]
    assert OrderStatus.CANCELLED in [value for value, _ in filters["status"].states]
