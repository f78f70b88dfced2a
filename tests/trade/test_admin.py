"""Officer console pages of trade rows: an officer sees its hub's rows and gets 404 on others'."""

import pytest

from hubs.scoping import actor_for
from tests.trade.conftest import BUYER, CONSUMER, quote_listing
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
