"""Parallel orders for the last units, or for one consumer's last room in the year: exactly as many sell
as fit, on a real database."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from hubs.kernel.errors import DomainError
from hubs.scoping import actor_for
from tests.tenants import session_client
from tests.trade.conftest import BUYER, make_listing, quote_listing
from trade.models import Listing, Order
from trade.services import order_place

pytestmark = pytest.mark.django_db(transaction=True)

BUYERS = 8
UNITS = 3
RETRIES = 4


def test_parallel_orders_for_the_last_units_sell_exactly_that_many(hs_nomenclature, hkg, hgh, rules):
    # given a Hong Kong seller's last units, quoted into Hangzhou for more consumers than there are units
    listing = make_listing(hkg, stock=UNITS)
    actor = actor_for(hkg.seller_admin.user)
    quotes = [quote_listing(hkg, hgh, listing, consumer_id=f"33010619900101{i:04d}") for i in range(BUYERS)]
    start = threading.Barrier(BUYERS)

    def buy(i):
        buyer = {**BUYER, "name": f"Buyer {i}", "id_number": f"33010619900101{i:04d}"}
        try:
            start.wait()
            order_place(actor=actor, quote=quotes[i], buyer=buyer)
            return "sold"
        except DomainError as refusal:
            return refusal.code
        finally:
            connection.close()

    with ThreadPoolExecutor(BUYERS) as pool:
        outcomes = list(pool.map(buy, range(BUYERS)))

    assert sorted(outcomes) == ["out_of_stock"] * (BUYERS - UNITS) + ["sold"] * UNITS
    assert Listing.objects.get(pk=listing.pk).stock == 0
    assert Order.objects.count() == UNITS


def test_concurrent_retries_with_one_key_place_one_order_and_never_fail(hs_nomenclature, hkg, hgh, rules):
    listing = make_listing(hkg, stock=5)
    quote = quote_listing(hkg, hgh, listing)
    body = {"quote": quote.public_id, "buyer": BUYER}
    start = threading.Barrier(RETRIES)

    def retry(_):
        client = session_client(hkg.seller_admin)
        try:
            start.wait()
            response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(RETRIES) as pool:
        answers = list(pool.map(retry, range(RETRIES)))

    assert {code for code, _ in answers} <= {201, 409}, answers
    placed = [body for code, body in answers if code == 201]
    assert placed
    assert all(body == placed[0] for body in placed)
    assert Order.objects.count() == 1
    assert Listing.objects.get(pk=listing.pk).stock == 4
