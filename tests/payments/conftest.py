from datetime import timedelta
from decimal import Decimal

import pytest

from ewtp.celery import app
from hubs.models import RuleSet
from hubs.scoping import actor_for
from hubs.selectors import hub_today
from hubs.services import fx_rate_enter, rule_set_publish
from payments.models import Corridor
from payments.services import payment_start
from tests.conftest import ecb_rates_on
from tests.tenants import make_tenant
from tests.trade.conftest import (  # noqa: F401 (fixtures)
    BUYER,
    hgh,
    hkg,
    make_listing,
    mys,
    quote_listing,
    rules,
    verified,
    yiw,
)
from trade.services import order_declare, order_deliver, order_place, order_release, order_ship


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs what the block sends on commit (reactions, refunds) when it ends, as a worker
    would, in this process (the integration tests send them to a real worker)."""
    before = {name: app.conf[name] for name in ("task_always_eager", "task_eager_propagates")}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    app.conf.update(before)


@pytest.fixture
def place_order(hkg, hgh, rules):  # noqa: F811 (fixtures)
    """Orders of a handbag from Hong Kong into Hangzhou (CNY both), placed by the seller's admin."""

    def place(stock=10):
        listing = make_listing(hkg, stock=stock)
        quote = quote_listing(hkg, hgh, listing)
        return order_place(actor=actor_for(hkg.seller_admin.user), quote=quote, buyer=BUYER)

    return place


USD = "USD"
LAGOS_BUYER = {
    "kind": "business",
    "name": "Adebayo Imports Ltd",
    "registration_number": "RC1234567",
    "address_line1": "12 Broad Street",
    "city": "Lagos",
    "country": "NG",
}


@pytest.fixture
def lagos(yiw):  # noqa: F811 (fixture)
    """Lagos (NG, NGN) added as data: a hub, a general-trade rule set (UNVERIFIED figures), an NGN rate entered by
    its supervisor against USD, and a Nigeria → China corridor of USD 10,000 a transfer and a day."""
    hub = verified(make_tenant("LOS", "NG", "NGN", "Africa/Lagos"))
    general_trade = RuleSet.objects.create(hub=hub.hub, version=1, import_rules="malaysia_dftz", de_minimis_threshold=0)
    general_trade.rates.create(hs_prefix="", duty_rate=Decimal("0.2"), vat_rate=Decimal("0.075"))  # UNVERIFIED
    supervisor = actor_for(hub.supervisor.user)
    rule_set_publish(actor=supervisor, rule_set=general_trade, effective_from=hub_today(hub.hub))
    day = hub_today(hub.hub) - timedelta(days=1)
    ecb_rates_on(day, {"CNY": Decimal("8"), USD: Decimal("1")})  # made up, so that the figures come out round
    fx_rate_enter(actor=supervisor, hub=hub.hub, base=USD, quote="NGN", rate=Decimal("1500"), rate_date=day)
    Corridor.objects.create(
        from_country="NG",
        to_country="CN",
        currency=USD,
        per_transfer_cap=Decimal("10000"),
        daily_cap=Decimal("10000"),
        settlement_days=5,
        flat_fee=Decimal("25"),
    )
    return hub


# An order's journey from paid to delivered, each step through its order service.
JOURNEY = (order_declare, order_release, order_ship, order_declare, order_release, order_deliver)


def deliver(order):
    for step in JOURNEY:
        step(order=order)


def paid_lagos_order(seller, lagos_hub, price="1600000.00"):
    """A Yiwu seller's order from a Lagos business, paid into escrow. At the `lagos` fixture's rates, CNY 1,600,000
    is NGN 300,000,000 of goods, USD 200,000."""
    listing = make_listing(seller, price=price, stock=1, hs_code="950300", title="Toy containers")
    quote = quote_listing(seller, lagos_hub, listing, consumer_id="")
    order = order_place(actor=actor_for(seller.seller_admin.user), quote=quote, buyer=LAGOS_BUYER)
    payment_start(actor=actor_for(seller.seller_admin.user), order=order, method="sim_ok")
    return order
