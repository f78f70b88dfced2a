#!/usr/bin/env python
"""Tariff throughput: quote lines per second in process, and quotes per second through the API, with
and without a currency conversion (a MYR listing into Hangzhou beside a CNY one), in the same run.

Runs on a database of its own (a SQLite file in a temporary folder), so it never writes to yours:
    .venv/bin/python bench/tariff.py [seconds per measurement, default 3]
"""

import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="ewtp-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ewtp.settings")
# A benchmark is one client asking as fast as it can: no rate limit applies to it.
os.environ["API_RATE_PER_CLIENT"] = os.environ["API_RATE_PER_ADDRESS"] = "1000000/s"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from djmoney.money import Money  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from hubs.models import Company, FxRate, FxSource, Hub, Membership, Role, User  # noqa: E402
from hubs.scoping import actor_for  # noqa: E402
from hubs.selectors import rule_set_in_force  # noqa: E402
from hubs.services import rule_sets_load_reference  # noqa: E402
from hubs.tariff import Basket, BasketLine, Measure, assess  # noqa: E402
from trade.services import listing_create  # noqa: E402

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
CODES = ["420221", "150920", "220421", "330499", "090210", "610910", "950300"]


def rate(run, seconds=SECONDS):
    """Calls of `run` per second, over about `seconds`."""
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        run()
        calls += 1
    return calls / elapsed


def seller(hub, currency, user):
    """A company at `hub` invoicing in `currency`, with 50 active listings, and its seller admin `user`."""
    company = Company.objects.create(
        legal_name=f"Bench {hub.code}",
        country=hub.country,
        home_hub=hub,
        registration_number=hub.code,
        home_currency=currency,
    )
    Membership.objects.create(user=user, role=Role.SELLER_ADMIN, company=company)
    return company, [
        listing_create(
            actor=actor_for(user),
            company=company,
            title=f"Goods {i}",
            hs_code=CODES[i % len(CODES)],
            origin_country=hub.country,
            unit_price=Money("10.00", currency),
            unit_weight_kg=Decimal(1),
            length_cm=Decimal(1),
            width_cm=Decimal(1),
            height_cm=Decimal(1),
            stock=10**6,
            status="active",
        )
        for i in range(50)
    ]


def main():
    call_command("migrate", verbosity=0)
    hubs = {
        code: Hub.objects.create(code=code, name=code, country=country, currency=currency, timezone=tz)
        for code, country, currency, tz in [
            ("HGH", "CN", "CNY", "Asia/Shanghai"),
            ("HKG", "HK", "HKD", "Asia/Hong_Kong"),
            ("MYS", "MY", "MYR", "Asia/Kuala_Lumpur"),
        ]
    }
    for hub in hubs.values():
        rule_sets_load_reference(hub=hub)
    on = django.utils.timezone.localdate()
    for currency, value in (("CNY", "7.8"), ("MYR", "5.0")):
        FxRate.objects.create(source=FxSource.ECB, base="EUR", quote=currency, rate=Decimal(value), rate_date=on)
    user = User.objects.create(username="bench")
    listings = {
        "same currency (HKG, CNY → HGH)": ("HKG", seller(hubs["HKG"], "CNY", user)[1]),
        "converted (MYS, MYR → HGH)": ("MYS", seller(hubs["MYS"], "MYR", user)[1]),
    }
    rules = rule_set_in_force(hubs["HGH"], on).as_rules()

    print(f"tariff benchmark, {SECONDS:g} s per figure")
    for size in (1, 50):
        piece = Measure(Decimal(1), "piece")
        lines = tuple(BasketLine(CODES[i % len(CODES)], 1, Decimal("10.00"), piece) for i in range(size))
        basket = Basket("CNY", lines, freight=Decimal("30.00"))
        per_second = rate(lambda basket=basket: assess(basket, rules, consumer_year_usage=Decimal(0)))
        print(f"  in process, {size:>2}-line basket: {per_second * size:>9,.0f} lines/s ({per_second:,.0f} baskets/s)")

    client = APIClient()
    client.force_authenticate(user)
    for size in (1, 50):
        baseline = None
        for label, (origin, goods) in listings.items():
            body = {
                "company": goods[0].company_id,
                "origin_hub": origin,
                "destination_hub": "HGH",
                "consumer_id": "330106199001011234",
                "lines": [{"listing": listing.public_id, "quantity": 1} for listing in goods[:size]],
            }

            def post(body=body):
                response = client.post("/api/v1/quotes/", body, format="json")
                assert response.status_code == 201, response.content

            per_second = rate(post)
            baseline = baseline or per_second
            print(
                f"  API, {size:>2}-line quotes, {label:<31}: {per_second:>7,.1f} quotes/s "
                f"({per_second * size:,.0f} lines/s), {per_second / baseline:.2f}× the same-currency figure"
            )


if __name__ == "__main__":
    main()
