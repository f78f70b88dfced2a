#!/usr/bin/env python
"""The API side by side with a bare DRF endpoint: requests per second, p50 and p99 latency, the ratio to the
bare endpoint and queries per request, through gunicorn, at 1 and 8 connections.

    .venv/bin/python bench/api.py            # full run: 10,000 orders present, about 4 minutes
    .venv/bin/python bench/api.py --quick    # CI: 1,000 orders, under a minute, the same table

It serves `ewtp.wsgi` with gunicorn (sync workers, DEBUG off, `bench.settings`: the platform's settings plus
the bare endpoint `bench/bare/` and a middleware that counts each request's queries in `X-Queries`) on a
database of its own, never yours: on PostgreSQL (the server of DATABASE_URL, else 127.0.0.1:5432 when it
answers) a throwaway database `ewtp_bench_<pid>`, dropped at the end; otherwise a SQLite file in a temporary
folder. The cache is Redis db 13 when 127.0.0.1:6379 answers, as in production, else the file cache.

The platform's requests carry a real API key (`Authorization: Api-Key ...`): authentication, throttling
(at a rate no client reaches) and tenant scoping are in the figures. The bare endpoint (one model of five
fields, a `ModelSerializer` create and a 50-row list) has no authentication or throttling: it is the floor.
Each round runs every platform endpoint for a fixed time right beside its bare counterpart (alternately
before and after it), and the ratio compares the two over the same rounds. An order POST orders a fresh
quote each time, made before the clock starts. Figures go in notes, never in test thresholds.
"""

import argparse
import asyncio
import contextlib
import copy
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_DEFAULT = "redis://127.0.0.1:6379/13"
CODES = ["420221", "610910", "621410", "950300", "330499"]
# A Malaysian consumer buying from Hangzhou (Malaysia keeps no annual limit per consumer).
BUYER = {
    "kind": "consumer",
    "name": "Siti Aminah",
    "id_number": "900101-14-5678",
    "address_line1": "1 Jalan Ampang",
    "city": "Kuala Lumpur",
    "country": "MY",
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: 1,000 orders, short rounds, under a minute")
    parser.add_argument("--db", choices=["auto", "postgres", "sqlite"], default="auto", help="default: auto")
    parser.add_argument("--cache", default="auto", help=f"a CACHE_URL, `file`, or auto ({REDIS_DEFAULT} if it answers)")
    parser.add_argument("--orders", type=int, help="orders present (default 10,000; 1,000 with --quick)")
    parser.add_argument("--seconds", type=float, help="seconds per endpoint per round (default 4; 0.6 with --quick)")
    parser.add_argument("--rounds", type=int, help="rounds per connection count (default 3; 2 with --quick)")
    parser.add_argument("--conns", default="1,8", help="connection counts, comma-separated (default 1,8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    args = parser.parse_args()
    args.orders = args.orders if args.orders is not None else (1_000 if args.quick else 10_000)
    args.seconds = args.seconds or (0.6 if args.quick else 4.0)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.conns = [int(n) for n in args.conns.split(",")]
    return args


# --- the database and cache of the benchmark, chosen before Django starts ---------------------------------


def answers(port, payload=None, expect=None):
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            if payload is None:
                return True
            sock.sendall(payload)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


def libpq(url):
    """The URL as libpq reads it (django-environ also takes `pgsql://`, `postgis://`, ...)."""
    return "postgresql" + url[url.index("://") :]


def with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class Database:
    """The benchmark's own database: created here, dropped (or deleted) in `drop`."""

    def __init__(self, choice, var_dir):
        url = os.environ.get("DATABASE_URL", "")
        self.server = None
        if choice == "postgres" or (choice == "auto" and url.startswith(("postgres", "pgsql", "postgis"))):
            self.server = url if url.startswith(("postgres", "pgsql", "postgis")) else PG_DEFAULT
        elif choice == "auto" and not url and answers(5432):
            self.server = PG_DEFAULT
        self.name = f"ewtp_bench_{os.getpid()}"
        if self.server:
            try:
                self._admin(f'CREATE DATABASE "{self.name}"')
                self.url = with_database(self.server, self.name)
                return
            except Exception as exc:
                if choice == "postgres" or url:
                    raise
                print(f"PostgreSQL at 127.0.0.1:5432 refused ({str(exc).strip()}): SQLite instead.")
                self.server = None
        self.url = f"sqlite:///{var_dir / 'bench.sqlite3'}"

    def _admin(self, sql):
        import psycopg2

        try:  # the server's maintenance database, else the one DATABASE_URL names
            connection = psycopg2.connect(libpq(with_database(self.server, "postgres")))
        except psycopg2.OperationalError:
            connection = psycopg2.connect(libpq(self.server))
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def drop(self):
        if self.server:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def cache_url(choice, var_dir):
    if choice == "auto":
        return REDIS_DEFAULT if answers(6379, b"PING\r\n", b"+PONG") else f"filecache://{var_dir / 'cache'}"
    return f"filecache://{var_dir / 'cache'}" if choice == "file" else choice


# --- seeding: a handful of rows through the services, then copies of them -------------------------------


@dataclass
class World:
    key: str
    listings: list
    fresh_quotes: deque  # public ids of quotes nobody has ordered yet


def seed(orders, fresh_quotes):
    """Two hubs with their reference rules and ECB rates, a verified Hangzhou seller with 20 listings and an
    integrator's API key; real quotes and orders made by the services, then copied (new public ids) up to
    `orders` orders, and `fresh_quotes` quotes left for the order POSTs."""
    from django.utils import timezone
    from djmoney.money import Money

    from bench.bare.models import Item
    from hubs.models import Company, FxRate, FxSource, Hub, Membership, Role, User
    from hubs.scoping import actor_for
    from hubs.services import api_key_issue, integrator_create, rule_sets_load_reference
    from trade.models import Buyer, Order, OrderLine, Quote, QuoteLine
    from trade.services import QuoteLineRequest, listing_create, order_place, quote_create

    hgh = Hub.objects.create(code="HGH", name="Hangzhou", country="CN", currency="CNY", timezone="Asia/Shanghai")
    mys = Hub.objects.create(code="MYS", name="Malaysia", country="MY", currency="MYR", timezone="Asia/Kuala_Lumpur")
    for hub in (hgh, mys):
        rule_sets_load_reference(hub=hub)
    day = timezone.localdate() - timedelta(days=1)
    FxRate.objects.bulk_create(
        FxRate(source=FxSource.ECB, base="EUR", quote=currency, rate=Decimal(rate), rate_date=day)
        for currency, rate in (("CNY", "7.8"), ("MYR", "5.0"), ("USD", "1.1"))
    )
    company = Company.objects.create(
        legal_name="Westlake Bench Co., Ltd.",
        country="CN",
        home_hub=hgh,
        registration_number="BENCH0001",
        home_currency="CNY",
        verified=True,
    )
    admin = User.objects.create(username="bench-admin")
    Membership.objects.create(user=admin, role=Role.SELLER_ADMIN, company=company)
    actor = actor_for(admin)
    listings = [
        listing_create(
            actor=actor,
            company=company,
            title=f"Bench goods {i}",
            hs_code=CODES[i % len(CODES)],
            origin_country="CN",
            unit_price=Money(f"{60 + 10 * i}.00", "CNY"),
            unit_weight_kg=Decimal("0.7"),
            length_cm=Decimal(30),
            width_cm=Decimal(10),
            height_cm=Decimal(25),
            stock=10**9,
            status="active",
        )
        for i in range(20)
    ]
    _, key = api_key_issue(
        actor=actor, membership=integrator_create(actor=actor, company=company, username="erp"), name="Benchmark"
    )

    def quote(*picked):
        lines = [QuoteLineRequest(quantity=1 + n % 2, listing=listing) for n, listing in enumerate(picked)]
        return quote_create(actor=actor, company=company, origin_hub=hgh, destination_hub=mys, lines=lines)

    # Templates: orders of 1, 2 and 3 lines, and a 1-line quote of each listing.
    template_orders = [
        order_place(actor=actor, quote=quote(*listings[i : i + size]), buyer=BUYER)
        for i, size in enumerate((1, 1, 2, 3))
    ]
    template_quotes = [quote(listing) for listing in listings]
    template_lines = {q.pk: list(q.lines.all()) for q in [*template_quotes, *(o.quote for o in template_orders)]}
    order_lines = {o.pk: list(o.lines.all()) for o in template_orders}

    def clone(row, **changes):
        row = copy.copy(row)
        row.pk = row.id = None
        row._state.adding, row._state.db = True, None
        if hasattr(row, "public_id"):
            row.public_id = ""  # PublicIdField draws a new one
        for name, value in changes.items():
            setattr(row, name, value)
        return row

    def clone_quotes(templates, count, now):
        quotes = Quote.objects.bulk_create(
            clone(templates[i % len(templates)], created_at=now - timedelta(seconds=i), expires_at=now + timedelta(1))
            for i in range(count)
        )
        QuoteLine.objects.bulk_create(
            clone(line, quote=q)
            for template, q in zip((templates[i % len(templates)] for i in range(count)), quotes, strict=True)
            for line in template_lines[template.pk]
        )
        return quotes

    now = timezone.now()
    batch = 2_000
    for start in range(0, orders - len(template_orders), batch):
        count = min(batch, orders - len(template_orders) - start)
        templates = [template_orders[(start + i) % len(template_orders)] for i in range(count)]
        buyers = Buyer.objects.bulk_create(clone(o.buyer) for o in templates)
        quotes = clone_quotes([o.quote for o in template_orders], count, now - timedelta(minutes=start + count))
        placed = Order.objects.bulk_create(
            clone(o, quote=q, buyer=b, placed_at=now - timedelta(minutes=start + i))
            for i, (o, q, b) in enumerate(zip(templates, quotes, buyers, strict=True))
        )
        OrderLine.objects.bulk_create(
            clone(line, order=o) for t, o in zip(templates, placed, strict=True) for line in order_lines[t.pk]
        )
    fresh = []
    for start in range(0, fresh_quotes, batch):
        fresh += clone_quotes(template_quotes, min(batch, fresh_quotes - start), now)
    Item.objects.bulk_create(
        Item(sku=f"SKU-{i}", title=f"Bench item {i}", quantity=1 + i % 7, unit_price=Decimal("120.00"))
        for i in range(orders)
    )
    assert Order.objects.count() == orders, Order.objects.count()
    listing_ids = [listing.public_id for listing in listings]
    return World(key=key, listings=listing_ids, fresh_quotes=deque(q.public_id for q in fresh))


# --- gunicorn -----------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(port, workers, env, log):
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ewtp.wsgi:application", "--bind", f"{HOST}:{port}"]
        + ["--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped whole by `stop_server`
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}: see {log.name}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(f"GET /bench/bare/items/ HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            if sock.recv(16).startswith(b"HTTP/1.1 200"):
                return server
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 60 s: see {log.name}")


def stop_server(server):
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# --- the load generator: asyncio, HTTP/1.1, one request in flight per connection ------------------------


class Exhausted(Exception):
    """No fresh quote is left for an order POST."""


@dataclass
class Endpoint:
    label: str
    method: str
    path: str
    expect: int
    headers: dict
    body: object = None  # a function returning the JSON body, or None
    bare: str = ""  # the label of the bare endpoint it is compared with; empty for a bare endpoint
    budgeted: bool = False  # consumes fresh quotes: at most the round's budget of requests

    def request(self):
        body = b"" if self.body is None else json.dumps(self.body()).encode()
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {HOST}", *(f"{k}: {v}" for k, v in self.headers.items())]
        if self.method != "GET":
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Figures:
    requests: int = 0
    seconds: float = 0.0
    queries: int = 0
    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    exhausted: bool = False

    def add(self, other):
        self.requests += other.requests
        self.seconds += other.seconds
        self.queries += other.queries
        self.latencies += other.latencies
        self.errors += other.errors
        self.exhausted |= other.exhausted

    @property
    def rate(self):
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p):
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


class Connection:
    def __init__(self, port):
        self.port, self.reader, self.writer = port, None, None

    async def exchange(self, raw):
        """Send one request and read its answer: (status, headers, body). A sync worker closes the
        connection after each answer; the next request opens a new one, as a client of it would."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(raw)
        await self.writer.drain()
        status_line = await self.reader.readline()
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close" or not status_line:
            self.close()
        return int(status_line.split()[1]) if status_line else 0, headers, body

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def measure(endpoint, port, connections, seconds, limit):
    """`connections` clients asking `endpoint` back to back for `seconds` (or `limit` requests in all)."""
    figures = Figures()
    budget = [limit]
    start = time.perf_counter()
    deadline = start + seconds

    async def client():
        connection = Connection(port)
        try:
            while time.perf_counter() < deadline and budget[0] > 0:
                try:
                    raw = endpoint.request()
                except Exhausted:
                    figures.exhausted = True
                    return
                budget[0] -= 1
                sent = time.perf_counter()
                try:
                    status, headers, body = await connection.exchange(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    connection.close()
                    figures.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if status != endpoint.expect:
                    figures.errors.append(f"{status} {body[:300].decode(errors='replace')}")
                    continue
                figures.latencies.append(time.perf_counter() - sent)
                figures.queries += int(headers.get("x-queries", 0))
                figures.requests += 1
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(connections)))
    figures.seconds = time.perf_counter() - start
    return figures


def endpoints(world):
    key = {"Authorization": f"Api-Key {world.key}"}
    listings, fresh = world.listings, world.fresh_quotes
    turn = [0]

    def quote(size):
        def body():
            turn[0] += 1
            picked = [listings[(turn[0] + i) % len(listings)] for i in range(size)]
            lines = [{"listing": listing, "quantity": 1} for listing in picked]
            return {"origin_hub": "HGH", "destination_hub": "MYS", "lines": lines}

        return body

    def order():
        if not fresh:
            raise Exhausted
        return {"quote": fresh.popleft(), "buyer": BUYER}

    def item():
        turn[0] += 1
        return {"sku": f"SKU-{turn[0]}", "title": "Woven rattan handbag", "quantity": 2, "unit_price": "120.00"}

    bare_create = Endpoint("bare create (POST)", "POST", "/bench/bare/items/", 201, {}, item)
    bare_list = Endpoint("bare list (GET, 50 rows)", "GET", "/bench/bare/items/", 200, {})
    return [
        bare_create,
        bare_list,
        Endpoint("POST /api/v1/quotes/ (1 line)", "POST", "/api/v1/quotes/", 201, key, quote(1), bare_create.label),
        Endpoint("POST /api/v1/quotes/ (20 lines)", "POST", "/api/v1/quotes/", 201, key, quote(20), bare_create.label),
        Endpoint(
            "POST /api/v1/orders/ (fresh quote)", "POST", "/api/v1/orders/", 201, key, order, bare_create.label, True
        ),
        Endpoint("GET /api/v1/orders/ (page of 50)", "GET", "/api/v1/orders/", 200, key, None, bare_list.label),
    ]


async def drive(world, port, args, order_budget):
    """Warm up, then for each connection count, rounds of each platform endpoint beside its bare one.
    Returns {(label, connections): Figures} and, per platform endpoint, the bare figures of its rounds."""
    every = endpoints(world)
    by_label = {e.label: e for e in every}

    def limit(endpoint):
        return order_budget if endpoint.budgeted else 10**9

    for endpoint in every:  # each worker imports, connects and fills its caches before the clock starts
        await measure(endpoint, port, max(args.conns), min(args.seconds, 1.0), limit(endpoint))
    results, beside = {}, {}
    for connections in args.conns:
        for r in range(args.rounds):
            for endpoint in every:
                if not endpoint.bare:
                    continue
                pair = [by_label[endpoint.bare], endpoint]
                for measured in pair if r % 2 == 0 else pair[::-1]:
                    figures = await measure(measured, port, connections, args.seconds, limit(measured))
                    results.setdefault((measured.label, connections), Figures()).add(figures)
                    if measured is not endpoint:
                        beside.setdefault((endpoint.label, connections), Figures()).add(figures)
    return every, results, beside


# --- the run ------------------------------------------------------------------------------------------


def report(args, setup, every, results, beside):
    print(f"\nAPI benchmark{' (--quick)' if args.quick else ''}: {setup['database']}; cache {setup['cache']}")
    fewer = " (--quick: fewer than the full run's 10,000)" if args.orders < 10_000 else ""
    print(
        f"gunicorn ewtp.wsgi: {args.workers} sync workers, DEBUG off, bench.settings; "
        f"{args.orders:,} orders present{fewer}, and as many bare rows"
    )
    print(
        f"{args.rounds} rounds × {args.seconds:g} s per endpoint and connection count, each platform endpoint "
        "beside its bare one; client: asyncio, HTTP/1.1, one request in flight per connection"
    )
    print("The platform's requests carry an API key; the bare endpoint has no authentication nor throttling.\n")
    header = (
        f"{'endpoint':<36} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'queries/req':>11}"
    )
    print(header)
    print("-" * len(header))
    failed = []
    for connections in args.conns:
        for endpoint in every:
            figures = results.get((endpoint.label, connections))
            if figures is None:
                continue
            bare = beside.get((endpoint.label, connections))
            ratio = f"{figures.rate / bare.rate:.2f}×" if bare and bare.rate else "-" if endpoint.bare else "1.00×"
            queries = figures.queries / figures.requests if figures.requests else float("nan")
            print(
                f"{endpoint.label:<36} {connections:>5} {figures.rate:>9,.1f} {figures.percentile(50):>8.1f} "
                f"{figures.percentile(99):>8.1f} {ratio:>8} {queries:>11.1f}"
                + (" (a round ran out of fresh quotes)" if figures.exhausted else "")
            )
            if figures.errors:
                failed.append((endpoint.label, connections, figures.errors))
        print()
    print(
        f"migrate {setup['migrate']:.1f} s, seed {setup['seed']:.1f} s, measure {setup['measure']:.1f} s, "
        f"total {time.perf_counter() - setup['began']:.1f} s"
    )
    for label, connections, errors in failed:
        print(f"FAILED: {label} at {connections} connections: {len(errors)} errors; the first: {errors[0]}")
    return failed


def main():
    args = parse_args()
    setup = {"began": time.perf_counter()}
    var_dir = Path(tempfile.mkdtemp(prefix="ewtp-bench-api-"))
    log_path = var_dir / "gunicorn.log"
    database = server = None
    failed = True

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        database = Database(args.db, var_dir)
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            VAR_DIR=str(var_dir),  # the file-system broker and file cache, if used, are the benchmark's own
            STATIC_ROOT=str(var_dir / "static"),
            DATABASE_URL=database.url,
            CACHE_URL=cache_url(args.cache, var_dir),
            # A benchmark is a client asking as fast as it can: no rate limit applies to it.
            API_RATE_PER_CLIENT="1000000/s",
            API_RATE_PER_ADDRESS="1000000/s",
            # Production's settings: DEBUG off (no query log), served over plain HTTP on the loopback.
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(40),
            ALLOWED_HOSTS=f"{HOST},localhost",
            SECURE_SSL_REDIRECT="false",
            LOG_LEVEL="WARNING",
        )
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", run_syncdb=True, verbosity=0)
        setup["migrate"] = time.perf_counter() - setup["began"]
        # Order POSTs per round at most: a round that runs out of fresh quotes ends early, and says so.
        order_budget = int(args.seconds * 400)
        world = seed(args.orders, order_budget * (1 + args.rounds * len(args.conns)))
        with connection.cursor() as cursor:
            # Statistics of the seeded tables, as autovacuum keeps them in production: without them the planner
            # takes 10,000 orders for 15 and sorts them all instead of reading the newest from an index.
            cursor.execute("ANALYZE")
        setup["seed"] = time.perf_counter() - setup["began"] - setup["migrate"]
        if connection.vendor == "postgresql":
            version = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
            setup["database"] = f"{version} (database {database.name}, dropped at the end)"
        else:
            import sqlite3

            setup["database"] = f"SQLite {sqlite3.sqlite_version} (a file in a temporary folder)"
        setup["cache"] = f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]} {env['CACHE_URL']}"
        connections.close_all()

        port = free_port()
        with open(log_path, "w") as log:
            server = start_server(port, args.workers, env, log)
            started = time.perf_counter()
            every, results, beside = asyncio.run(drive(world, port, args, order_budget))
            setup["measure"] = time.perf_counter() - started
        failed = report(args, setup, every, results, beside)
        return 1 if failed else 0
    finally:
        if server is not None:
            stop_server(server)
        if failed and log_path.exists() and log_path.stat().st_size:
            print(f"gunicorn's log:\n{log_path.read_text()[-3000:]}", file=sys.stderr)
        if database is not None:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
            database.drop()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
