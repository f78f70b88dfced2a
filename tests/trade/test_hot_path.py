"""The hot path's costs do not grow with the data: query counts flat in lines and rows, and on PostgreSQL
every query of a quote, an order and the lists served by an index on the tables that grow."""

import copy
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from hubs.models import AuditEvent, Company, Hub
from hubs.scoping import actor_for
from tests.tenants import session_client
from tests.trade.conftest import BUYER, CONSUMER, make_listing
from trade.api import OrderSummarySerializer
from trade.models import Buyer, Listing, Order, OrderLine, Quote, QuoteLine
from trade.selectors import order_summaries_for


@pytest.fixture
def seller(hkg, rules):
    return session_client(hkg.seller_admin)


def quote(client, listings, quantity=1, consumer=CONSUMER):
    body = {
        "origin_hub": "HKG",
        "destination_hub": "HGH",
        "consumer_id": consumer,
        "lines": [{"listing": listing.public_id, "quantity": quantity} for listing in listings],
    }
    response = client.post("/api/v1/quotes/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def place(client, quote_id, buyer=BUYER):
    response = client.post("/api/v1/orders/", {"quote": quote_id, "buyer": buyer}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _copy(row, **changes):
    row = copy.copy(row)
    row.pk = row.id = None
    row._state = copy.copy(row._state)
    row._state.adding = True
    row._prefetched_objects_cache = {}
    if hasattr(row, "public_id"):
        row.public_id = ""
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def seed_orders(order, n, *, tenants=((None, None, None),), batch=2000):
    """`n` copies of a real `order` with its quote, buyer, lines and placed event, bulk-created, each for another
    consumer and a minute older than the last; `tenants` cycles (company, origin hub, destination hub) among
    the copies (None: the order's own)."""
    order = Order.objects.select_related("quote", "buyer").get(pk=order.pk)
    quote_lines, order_lines = list(order.quote.lines.all()), list(order.lines.all())
    event = AuditEvent.objects.filter(order_ref=order.public_id).first()
    through = AuditEvent.hubs.through
    start = order.placed_at - timedelta(minutes=1)
    for first in range(0, n, batch):
        numbers = range(first, min(n, first + batch))
        owners = []
        for i in numbers:
            company, origin, destination = tenants[i % len(tenants)]
            owners.append(
                {
                    "company_id": company or order.company_id,
                    "origin_hub_id": origin or order.origin_hub_id,
                    "destination_hub_id": destination or order.destination_hub_id,
                }
            )
        at = [start - timedelta(minutes=i) for i in numbers]
        consumers = [f"seed-{i:064d}"[-64:] for i in numbers]
        quotes = Quote.objects.bulk_create(
            _copy(order.quote, created_at=t, consumer_hash=c, **o)
            for t, c, o in zip(at, consumers, owners, strict=True)
        )
        buyers = Buyer.objects.bulk_create(
            _copy(order.buyer, id_number_hash=c, company_id=o["company_id"])
            for c, o in zip(consumers, owners, strict=True)
        )
        orders = Order.objects.bulk_create(
            _copy(order, quote=q, buyer=b, placed_at=t, consumer_hash=q.consumer_hash, **o)
            for q, b, t, o in zip(quotes, buyers, at, owners, strict=True)
        )
        QuoteLine.objects.bulk_create(_copy(line, quote=q) for q in quotes for line in quote_lines)
        OrderLine.objects.bulk_create(_copy(line, order=o) for o in orders for line in order_lines)
        events = AuditEvent.objects.bulk_create(
            _copy(event, order_ref=o.public_id, target_id=str(o.pk), at=o.placed_at, company_id=o.company_id)
            for o in orders
        )
        through.objects.bulk_create(
            through(auditevent_id=e.pk, hub_id=hub)
            for e, o in zip(events, orders, strict=True)
            for hub in {o.origin_hub_id, o.destination_hub_id}
        )
    return order


# --- query counts flat in lines and rows ---------------------------------------------------------------------


@pytest.fixture
def bags(hkg, rules):
    return [make_listing(hkg, title=f"Bag {i}", price="10.00", stock=100) for i in range(50)]


def test_a_quote_and_an_order_take_as_many_queries_for_50_lines_as_for_1(seller, bags):
    # the process's first audit event looks its content type up once, and the consumer's first order makes
    # its year's row: neither happens again
    place(seller, quote(seller, bags[:1])["id"])

    counts = {}
    for n in (1, 50):
        with CaptureQueriesContext(connection) as made:
            quoted = quote(seller, bags[:n])
        with CaptureQueriesContext(connection) as placed:
            ordered = place(seller, quoted["id"])
        assert len(ordered["lines"]) == n
        counts["quote", n], counts["order", n] = len(made.captured_queries), len(placed.captured_queries)

    assert counts["quote", 50] == counts["quote", 1], counts
    assert counts["order", 50] == counts["order", 1], counts
    # a signed-in seller's session and user, then the quote's or the order's own
    assert counts["quote", 1] <= 16, counts
    assert counts["order", 1] <= 17, counts


def test_an_order_of_50_lines_reserves_every_line_or_none(seller, bags, hkg):
    quoted = quote(seller, bags[:50], quantity=2)
    Listing.objects.filter(pk=bags[49].pk).update(stock=1)

    response = seller.post("/api/v1/orders/", {"quote": quoted["id"], "buyer": BUYER}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "code": "out_of_stock",
        "detail": f"{bags[49].public_id} has 1 in stock: this order needs 2.",
        "attr": "quote",
    }
    stocks = dict(Listing.objects.filter(pk__in=[bag.pk for bag in bags]).values_list("pk", "stock"))
    assert stocks == {**{bag.pk: 100 for bag in bags[:49]}, bags[49].pk: 1}
    assert not Order.objects.exists()

    Listing.objects.filter(pk=bags[49].pk).update(stock=2)
    place(seller, quoted["id"])
    stocks = dict(Listing.objects.filter(pk__in=[bag.pk for bag in bags]).values_list("pk", "stock"))
    assert stocks == {**{bag.pk: 98 for bag in bags[:49]}, bags[49].pk: 0}


def test_the_orders_list_takes_as_many_queries_for_1000_orders_as_for_10(seller, bags, hgh):
    first = place(seller, quote(seller, bags[:3])["id"])
    order = seed_orders(Order.objects.get(public_id=first["id"]), 9)
    officer = session_client(hgh.officer)

    counts = {}
    for rows in (10, 1000):
        seed_orders(order, rows - Order.objects.count())
        assert Order.objects.count() == rows
        for who, client in (("seller", seller), ("officer", officer)):
            with CaptureQueriesContext(connection) as captured:
                listed = client.get("/api/v1/orders/")
            assert listed.status_code == 200
            assert len(listed.json()["results"]) == min(rows, 50)
            counts[who, rows] = len(captured.captured_queries)

    assert counts["seller", 1000] == counts["seller", 10], counts
    assert counts["officer", 1000] == counts["officer", 10], counts


def test_the_orders_lists_written_out_answer_is_what_its_declared_fields_give(seller, bags, hkg):
    place(seller, quote(seller, bags[:3])["id"])
    order = order_summaries_for(actor_for(hkg.seller_admin.user)).get()
    serializer = OrderSummarySerializer()
    assert serializer.to_representation(order) == serializers.ModelSerializer.to_representation(serializer, order)


# --- every query of the hot path served by an index (PostgreSQL) ---------------------------------------------

# The tables that grow with the trade; a sequential scan of one of them grows with it.
GROWING = (
    "trade_quote",
    "trade_quoteline",
    "trade_order",
    "trade_orderline",
    "trade_buyer",
    "hubs_auditevent",
    "hubs_auditevent_hubs",
)
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


def _plans(queries):
    """{sql: plan text} of each captured read or update."""
    plans = {}
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not re.match(r"\s*(SELECT|UPDATE|DELETE)\b", sql, re.IGNORECASE) or sql in plans:
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plans[sql] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def _is_seller_list(sql, company):
    """Whether `sql` reads a page of the seller's orders, unfiltered (scoped once or twice)."""
    scope = f'"trade_order"."company_id" IN \\({company}\\)'
    where = rf"WHERE \(?{scope}( AND {scope})?\)? ORDER BY"
    return sql.startswith('SELECT "trade_order"."id"') and re.search(where, sql) and sql.endswith("LIMIT 50")


def test_the_hot_path_scans_no_growing_table_on_postgresql(seller, bags, hkg, hgh):
    if connection.vendor != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    # given 10,000 orders across 100 companies and 20 pairs of hubs, the seller's and Hangzhou's among them
    hubs = Hub.objects.bulk_create(
        _copy(hgh.hub, code=f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}", name=f"Hub {i}") for i in range(20)
    )
    companies = Company.objects.bulk_create(
        _copy(hkg.company, legal_name=f"Seller {i}", registration_number=f"SEED-{i}", home_hub=hubs[i % 20])
        for i in range(99)
    )
    tenants = [(company.pk, company.home_hub_id, hubs[(i + 1) % 20].pk) for i, company in enumerate(companies)]
    tenants.append((None, None, None))
    first = place(seller, quote(seller, bags[:2])["id"])
    order = seed_orders(Order.objects.get(public_id=first["id"]), 10_000, tenants=tenants)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    officer, integrator = session_client(hgh.officer), session_client(hgh.hub_integrator)

    # when a quote is made and ordered, and the lists and an order are read
    with CaptureQueriesContext(connection) as captured:
        made = quote(seller, bags[:3], consumer="330106199001015678")
        place(seller, made["id"], {**BUYER, "id_number": "330106199001015678"})
        for client in (seller, officer, integrator):
            assert client.get("/api/v1/orders/").status_code == 200
            assert client.get("/api/v1/quotes/").status_code == 200
        for params in ({"status": "placed"}, {"placed_after": "2020-01-01T00:00:00Z"}, {"destination_hub": "HGH"}):
            assert seller.get("/api/v1/orders/", params).status_code == 200
        assert seller.get(f"/api/v1/orders/{order.public_id}/").status_code == 200
        assert officer.get(f"/api/v1/orders/{order.public_id}/").status_code == 200
        assert seller.get(f"/api/v1/quotes/{made['id']}/").status_code == 200
        assert seller.get("/api/v1/listings/", {"q": "bag 4"}).status_code == 200

    # then no plan reads a growing table whole, and the seller's list reads its newest orders in index order
    plans = _plans(captured.captured_queries)
    listed = [plan for sql, plan in plans.items() if _is_seller_list(sql, hkg.company.pk)]
    assert listed, "the seller's list was not captured"
    assert all("Sort" not in plan for plan in listed), listed
    scans = {sql: plan for sql, plan in plans.items() if any(table in GROWING for table in SEQ_SCAN.findall(plan))}
    assert not scans, "\n\n".join(f"{sql}\n{plan}" for sql, plan in scans.items())
