"""Market procurement (1039) above its cap: the quote splits the goods by whole units into declarations of at most
USD 150,000 each (converted into the origin hub's currency), and the export declaration is lodged as those
declarations, each with its lines and value at the order's prices, in the console, the portal, the API and its PDF
(a page each)."""

from collections import Counter
from decimal import Decimal

import pytest

from customs.documents import declaration_pdf
from customs.models import Declaration, Direction, Procedure
from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for
from hubs.tariff import ExportRegime
from tests.customs.conftest import pay
from tests.customs.test_refunds import MY_BUYER
from tests.pdfs import text_of
from tests.tenants import session_client
from tests.trade.conftest import make_listing
from trade.services import QuoteLineRequest, order_place, quote_create

# The reference facts' cap, USD 150,000, at the test rates: CNY 1,063,636.36.
CAP_CNY = Decimal("1063636.36")


def procurement_quote(yiw, mys, *lines):
    return quote_create(
        actor=actor_for(yiw.seller_admin.user),
        company=yiw.company,
        origin_hub=yiw.hub,
        destination_hub=mys.hub,
        lines=[QuoteLineRequest(quantity=quantity, listing=listing) for listing, quantity in lines],
        export_regime=ExportRegime.MARKET_PROCUREMENT,
    )


@pytest.fixture
def toys_and_shirts(yiw, rules, ecb_rates):
    return (
        make_listing(yiw, hs_code="950300", price="89.00", stock=20_000, title="Wooden toy"),
        make_listing(yiw, hs_code="610910", price="35.50", stock=20_000, title="Cotton T-shirt"),
    )


def test_an_export_above_the_cap_is_lodged_as_declarations_of_at_most_the_cap(yiw, mys, toys_and_shirts, committed):
    toys, shirts = toys_and_shirts
    quote = procurement_quote(yiw, mys, (toys, 15_000), (shirts, 10_000))  # CNY 1,690,000: two declarations
    assert quote.export_declarations == 2
    order = order_place(actor=actor_for(yiw.seller_admin.user), quote=quote, buyer=MY_BUYER)
    with committed():
        pay(yiw, order)
    export = Declaration.objects.get(order=order, direction=Direction.EXPORT)
    assert export.procedure == Procedure.MARKET_PROCUREMENT

    # Every unit in one declaration, every cent once, none over the cap (in the origin hub's CNY, as the quote split)
    assert [part["number"] for part in export.parts] == [1, 2]
    units = Counter()
    for part in export.parts:
        for line in part["lines"]:
            units[line["position"]] += line["quantity"]
        assert Decimal(part["value"]) == sum(Decimal(line["value"]) for line in part["lines"])
    assert units == {line["position"]: line["quantity"] for line in export.lines}
    assert sum(Decimal(part["value"]) for part in export.parts) == export.value.amount
    cny_prices = {0: toys.unit_price.amount, 1: shirts.unit_price.amount}  # the seller's, in the origin hub's CNY
    for part in export.parts:
        assert sum(cny_prices[line["position"]] * line["quantity"] for line in part["lines"]) <= CAP_CNY
    assert [(line["position"], line["quantity"]) for line in export.parts[0]["lines"]] == [(0, 11_950)]
    # 11,951 toys would be CNY 1,063,639, over the cap by 2.64: the 11,951st opens the second declaration
    assert [(line["position"], line["quantity"]) for line in export.parts[1]["lines"]] == [(0, 3_050), (1, 10_000)]

    pdf = text_of(declaration_pdf(export))
    assert f"{export.public_id}-1 (1 / 2)" in pdf
    assert f"{export.public_id}-2 (2 / 2)" in pdf

    seller = session_client(yiw.seller_admin)
    assert "Lodged as 2 declarations" in seller.get(f"/customs/{export.public_id}/").content.decode()
    officer = session_client(yiw.officer)
    decide = officer.get(f"/admin/customs/declaration/{export.pk}/decide/").content.decode()
    assert f"{export.public_id}-2" in decide
    body = seller.get(f"/api/v1/declarations/{export.public_id}/").json()
    assert body["parts"] == export.parts


def test_an_export_within_the_cap_is_one_declaration(yiw, mys, toys_and_shirts, committed):
    toys, _ = toys_and_shirts
    order = order_place(
        actor=actor_for(yiw.seller_admin.user), quote=procurement_quote(yiw, mys, (toys, 100)), buyer=MY_BUYER
    )
    with committed():
        pay(yiw, order)
    assert Declaration.objects.get(order=order, direction=Direction.EXPORT).parts == []


def test_a_unit_above_the_cap_is_refused_for_market_procurement(yiw, mys, rules, ecb_rates):
    crane = make_listing(yiw, hs_code="842619", price="1100000.00", stock=1, title="Gantry crane")
    with pytest.raises(DomainError) as refusal:
        procurement_quote(yiw, mys, (crane, 1))
    assert refusal.value.code == "over_declaration_cap"
    assert "general trade" in refusal.value.detail
