#!/usr/bin/env python
"""The ledger's throughput beside a bare baseline measured in the same run, on the same database:

- ledger transactions per second (`payments.services.ledger_post`, two postings, their accounts locked and their
  totals kept), single-threaded and with 4 concurrent writers, beside single-row INSERT transactions;
  with 4 writers, twice: each writer between accounts of its own, and all of them into one account (escrow,
  which every capture credits: a hot row);
- payouts' tranches settled per second (`tranche_send` over the simulated rail) with 1 and 2 worker processes,
  beside single-row INSERT transactions from as many processes;
- the queries and time of a balance read with 10 and with 100,000 postings on the account.

    .venv/bin/python bench/ledger.py            # about 2 minutes
    .venv/bin/python bench/ledger.py --quick    # under a minute

PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432) in a throwaway database `ewtp_bench_<pid>`, dropped at
the end; without a server, a SQLite file (one writer at a time: concurrency figures say little there).
Figures go in notes, never in test thresholds.
"""

import argparse
import multiprocessing
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import Database  # noqa: E402 (the same throwaway database)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements, fewer postings")
    parser.add_argument("--db", choices=["auto", "postgres", "sqlite"], default="auto")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (default 5; 1.5 with --quick)")
    args = parser.parse_args()
    args.seconds = args.seconds or (1.5 if args.quick else 5.0)
    args.postings = 10_000 if args.quick else 100_000
    args.tranches = 300 if args.quick else 1_500
    return args


def setup_django(database, var_dir):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        VAR_DIR=str(var_dir),
        DATABASE_URL=database.url,
        CACHE_URL=f"filecache://{var_dir / 'cache'}",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


# --- what is measured ---------------------------------------------------------------------------------------


def bare_insert(n):
    from django.db import transaction

    from bench.bare.models import Item

    with transaction.atomic():
        Item.objects.create(sku=f"SKU-{n}", title="Bench item", quantity=1, unit_price=Decimal("120.00"))


def ledger_transfer(source, target):
    from djmoney.money import Money

    from payments.services import credit, debit, ledger_post

    def post(n):
        amount = Money("1.00", "CNY")
        ledger_post(
            actor=None,
            key=secrets.token_hex(12),
            description="Bench",
            legs=[debit(source, amount), credit(target, amount)],
        )

    return post


def rate(work, seconds, threads=1):
    """Calls of `work(n)` per second, from `threads` threads (each with its own connection) for `seconds`."""
    from django.db import connection

    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def loop(i):
        n = 0
        while time.perf_counter() < deadline:
            work(f"{i}-{n}")
            n += 1
        counts[i] = n
        connection.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - began)


def _process_loop(kind, pks, results):
    import django
    from django.db import connection

    django.setup()
    if kind == "tranches":
        from payments.models import Tranche
        from payments.services import tranche_send

        for pk in pks:
            tranche_send(tranche=Tranche.objects.get(pk=pk))
    else:
        for n in pks:
            bare_insert(f"p{n}")
    connection.close()
    results.put(len(pks))


def in_processes(kind, items, processes):
    """Items per second when `processes` worker processes share `items` (tranches to send, or bare inserts)."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [items[i::processes] for i in range(processes)]
    began = time.perf_counter()
    workers = [context.Process(target=_process_loop, args=(kind, share, results)) for share in shares]
    for worker in workers:
        worker.start()
    done = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    return done / (time.perf_counter() - began)


# --- the world ----------------------------------------------------------------------------------------------


def accounts(writers):
    from hubs.models import Company, Hub
    from payments.models import AccountKind
    from payments.services import account_for, platform_account

    hub = Hub.objects.create(code="BEN", name="Bench", country="CN", currency="CNY", timezone="Asia/Shanghai")
    pairs = []
    for i in range(writers):
        companies = [
            Company.objects.create(
                legal_name=f"Bench {i}-{side}",
                country="CN",
                home_hub=hub,
                registration_number=f"B{i}{side}",
                home_currency="CNY",
            )
            for side in ("a", "b")
        ]
        pairs.append([account_for(kind=AccountKind.COMPANY, company=c, currency="CNY") for c in companies])
    return pairs, platform_account(AccountKind.PROVIDER, "CNY"), platform_account(AccountKind.ESCROW, "CNY")


def due_tranches(count):
    """`count` tranches due today, of payouts of delivered orders (rows made directly: what is measured is sending
    them), each with its seller's money on the seller's account."""
    from datetime import timedelta

    from django.utils import timezone
    from djmoney.money import Money

    from hubs.models import Company, Hub, RuleSet
    from payments.models import AccountKind, Corridor, Payout, Tranche
    from payments.services import account_for, credit, debit, ledger_post, platform_account
    from trade.models import Buyer, Order, Quote

    hub = Hub.objects.get(code="BEN")
    other = Hub.objects.create(code="BEX", name="Bench X", country="MY", currency="CNY", timezone="Asia/Shanghai")
    company = Company.objects.get(legal_name="Bench 0-a")
    rule_set = RuleSet.objects.create(hub=other, version=1, import_rules="malaysia_dftz")
    corridor = Corridor.objects.create(from_country="MY", to_country="CN", currency="CNY", per_transfer_cap=100)
    cny = Money("100.00", "CNY")
    now = timezone.now()
    quotes = Quote.objects.bulk_create(
        Quote(
            company=company,
            origin_hub=hub,
            destination_hub=other,
            rule_set=rule_set,
            regime="general_trade",
            goods=cny,
            freight=cny * 0,
            insurance=cny * 0,
            duties_and_taxes=cny * 0,
            total=cny,
            expires_at=now + timedelta(hours=1),
        )
        for _ in range(count)
    )
    buyer = Buyer.objects.create(
        company=company,
        kind="business",
        name="Bench buyer",
        registration_number="R1",
        address_line1="1 Road",
        city="KL",
        country="MY",
    )
    orders = Order.objects.bulk_create(
        Order(
            company=company,
            buyer=buyer,
            quote=q,
            origin_hub=hub,
            destination_hub=other,
            status="delivered",
            regime="general_trade",
            goods=cny,
            freight=cny * 0,
            insurance=cny * 0,
            duties_and_taxes=cny * 0,
            total=cny,
            quota_year=now.year,
        )
        for q in quotes
    )
    payouts = Payout.objects.bulk_create(
        Payout(
            company=company,
            order=o,
            corridor=corridor,
            gross=cny,
            fees=cny * 0,
            net=cny,
            expected_completion=now.date(),
        )
        for o in orders
    )
    Tranche.objects.bulk_create(
        Tranche(payout=p, number=1, amount=cny, fee=cny * 0, send_on=now.date() - timedelta(days=1)) for p in payouts
    )
    seller = account_for(kind=AccountKind.COMPANY, company=company, currency="CNY")
    ledger_post(
        actor=None,
        key="bench-proceeds",
        description="Bench proceeds",
        legs=[debit(platform_account(AccountKind.ESCROW, "CNY"), cny * count), credit(seller, cny * count)],
    )
    return list(Tranche.objects.values_list("pk", flat=True))


def balance_read(account, postings):
    """(queries, milliseconds) of reading the account's balance once it has `postings` postings (bulk rows, in
    balanced pairs with the fees account: what is measured is the read)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.models import Account, AccountKind, LedgerTransaction, Posting
    from payments.services import platform_account

    fees = platform_account(AccountKind.FEES, "CNY")
    have, batch = Posting.objects.filter(account=account).count(), 5_000
    for start in range(have, postings, batch):
        rows = LedgerTransaction.objects.bulk_create(
            LedgerTransaction(key=f"bulk-{account.pk}-{n}", fingerprint="-", description="Bulk")
            for n in range(start, min(postings, start + batch))
        )
        Posting.objects.bulk_create(
            Posting(transaction=row, account=held, side=side, amount=Decimal("1.00"), amount_currency="CNY")
            for row in rows
            for held, side in ((account, "credit"), (fees, "debit"))
        )
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        for _ in range(100):
            Account.objects.get(pk=account.pk).balance  # noqa: B018 (the read is what is measured)
        elapsed = (time.perf_counter() - began) / 100
    return len(queries.captured_queries) / 100, elapsed * 1000


# --- the run ------------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="ewtp-bench-ledger-"))
    database = Database(args.db, var_dir)
    try:
        setup_django(database, var_dir)
        from django.db import connection

        vendor = connection.vendor
        pairs, provider, escrow = accounts(4)
        rows = []

        def line(label, measured, bare):
            rows.append((label, measured, bare))

        bare_1 = rate(bare_insert, args.seconds)
        line("ledger transactions, 1 writer", rate(ledger_transfer(*pairs[0]), args.seconds), bare_1)
        bare_4 = rate(bare_insert, args.seconds, threads=4)
        own = [ledger_transfer(*pair) for pair in pairs]
        line(
            "ledger transactions, 4 writers, own accounts",
            rate(lambda n: own[int(n.split("-")[0])](n), args.seconds, threads=4),
            bare_4,
        )
        line(
            "ledger transactions, 4 writers, into escrow",
            rate(ledger_transfer(provider, escrow), args.seconds, threads=4),
            bare_4,
        )
        tranches = due_tranches(args.tranches)
        halves = [tranches[: len(tranches) // 2], tranches[len(tranches) // 2 :]]
        for processes, sent in zip((1, 2), halves, strict=True):
            settled = in_processes("tranches", sent, processes)
            bare = in_processes("bare", list(range(len(sent))), processes)
            line(f"tranches settled, {processes} worker process{'es' if processes > 1 else ''}", settled, bare)
        reads = [(n, *balance_read(pairs[1][0], n)) for n in (10, args.postings)]

        kind = f"PostgreSQL {connection.pg_version // 10000}" if vendor == "postgresql" else "SQLite"
        print(
            f"\nLedger benchmark{' (--quick)' if args.quick else ''}: {kind}, a throwaway database; "
            f"{args.seconds:g} s a measurement; bare: a single-row INSERT transaction (bench/bare)"
        )
        header = f"{'measured':<48} {'per s':>9} {'bare per s':>11} {'vs bare':>8}"
        print(header)
        print("-" * len(header))
        for label, measured, bare in rows:
            print(f"{label:<48} {measured:>9,.1f} {bare:>11,.1f} {measured / bare:>7.2f}×")
        print()
        for postings, queries, ms in reads:
            print(f"balance read with {postings:>7,} postings on the account: {queries:.0f} query, {ms:.3f} ms")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        database.drop()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
