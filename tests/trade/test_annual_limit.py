"""The consumer's annual CBEC limit holds at order time: quotes made before any order cannot together
pass it, whether the orders come one after the other, in any interleaving, or all at once."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs.consumers import consumer_hash
from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for
from hubs.tariff import Regime
from tests.trade.conftest import BUYER, make_listing, quote_listing
from trade.models import QUOTA_PENDING_STATUSES, Listing, Order, OrderStatus
from trade.services import order_cancel, order_place

LIMIT = Decimal(26000)  # the HGH annual limit in force
PRICE = "4900.00"  # one order within the CNY 5,000 single-order limit; six of them pass the annual one
QUOTES = 6


def retail_usage(consumer):
    """What the consumer's orders on their way take of the annual limit at the CBEC retail rate."""
    orders = Order.objects.filter(
        quote__consumer_hash=consumer_hash(consumer), regime=Regime.CBEC_RETAIL, status__in=QUOTA_PENDING_STATUSES
    ).select_related("quote")
    return sum((order.quote.quota_counted for order in orders), Decimal(0))


def place(seller, quote, consumer):
    try:
        order_place(actor=actor_for(seller.seller_admin.user), quote=quote, buyer={**BUYER, "id_number": consumer})
        return "placed"
    except DomainError as refusal:
        return refusal.code


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_for_one_consumer_never_pass_the_annual_limit(hs_nomenclature, hkg, hgh, rules):
    # given six CBEC retail quotes for one consumer, all made before any order
    consumer = "330106199001011234"
    watch = make_listing(hkg, price=PRICE, stock=QUOTES, hs_code="910111", title="Watch")
    quotes = [quote_listing(hkg, hgh, watch, consumer_id=consumer) for _ in range(QUOTES)]
    assert {quote.regime for quote in quotes} == {Regime.CBEC_RETAIL}
    start = threading.Barrier(QUOTES)

    def buy(quote):
        try:
            start.wait()
            return place(hkg, quote, consumer)
        finally:
            connection.close()

    # when they are all ordered at the same moment
    with ThreadPoolExecutor(QUOTES) as pool:
        outcomes = list(pool.map(buy, quotes))

    # then exactly the orders that fit are placed, and the others are refused with a way forward
    assert sorted(outcomes) == ["annual_limit_reached"] + ["placed"] * (QUOTES - 1)
    assert retail_usage(consumer) == Decimal(PRICE) * (QUOTES - 1) <= LIMIT
    assert Order.objects.count() == QUOTES - 1
    assert Listing.objects.get(pk=watch.pk).stock == 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("quote"), st.sampled_from(["900.00", "2500.00", "4900.00"])),
            st.tuples(st.just("order"), st.integers(min_value=0, max_value=20)),
            st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20)),
        ),
        min_size=4,
        max_size=24,
    )
)
def test_property_no_interleaving_of_quotes_orders_and_cancels_passes_the_limit(hkg, hgh, rules, steps):
    # given a consumer of its own for this example, and listings at a few prices
    consumer = f"33010619{uuid.uuid4().int % 10**10:010d}"
    listings = {}
    quotes, orders = [], []

    # when quotes, orders and cancellations come in any order
    for action, value in steps:
        if action == "quote":
            if value not in listings:
                listings[value] = make_listing(hkg, price=value, stock=1000, hs_code="910111", title=f"Watch {value}")
            quotes.append(quote_listing(hkg, hgh, listings[value], consumer_id=consumer))
        elif action == "order" and quotes:
            quote = quotes[value % len(quotes)]
            if not Order.objects.filter(quote=quote).exists() and place(hkg, quote, consumer) == "placed":
                orders.append(Order.objects.get(quote=quote))
        elif action == "cancel" and orders:
            order = orders[value % len(orders)]
            if Order.objects.get(pk=order.pk).status == OrderStatus.PLACED:
                order_cancel(actor=actor_for(hkg.seller_admin.user), order=order)

        # then after every step the retail orders on their way fit in the annual limit
        assert retail_usage(consumer) <= LIMIT
