import os
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from hubs.fx_files import fx_load_offline_history
from hubs.models import ApiKey, Company, FxRate, FxSource, Hub, Membership, Role, User
from hubs.scoping import actor_for
from hubs.services import api_key_issue, rule_sets_load_reference
from payments.models import Corridor
from trade.models import Listing, ListingStatus
from trade.services import listing_create

DEMO_PASSWORD = "ehub-demo-2026"
# Public on purpose, like the demo password: the seed runs only with DEBUG on.
DEMO_API_KEY = "demoyiwu.YiwuBrightCraftsErpDemoKey00001"

HUBS = [
    ("HGH", "Hangzhou Cross-border E-commerce Zone", "CN", "CNY", "Asia/Shanghai"),
    ("MYS", "Malaysia Digital Free Trade Zone", "MY", "MYR", "Asia/Kuala_Lumpur"),
    ("YIW", "Yiwu International Trade Zone", "CN", "CNY", "Asia/Shanghai"),
    # A hub of buyers (the seed's Nigeria case): its rules, its NGN rate and its corridor are data like the rest.
    ("LOS", "Lagos Free Trade Zone", "NG", "NGN", "Africa/Lagos"),
]

# The NGN rate the Lagos supervisor enters (the ECB publishes none): 1 USD in NGN. UNVERIFIED, illustrative.
NGN_PER_USD = Decimal("1500")

# Payout corridors, from the buyer's country to the seller's: (from, to, currency, per-transfer cap, daily cap,
# settlement days, flat fee, percentage fee, FX spread). UNVERIFIED, illustrative, except the Nigeria → China cap
# of USD 10,000 a transfer of the seed case.
CORRIDORS = [
    ("NG", "CN", "USD", "10000", "10000", 5, "25", "0", "0.005"),
    ("MY", "CN", "CNY", "50000", None, 1, "0", "0.001", "0.003"),
    ("CN", "MY", "MYR", "30000", None, 1, "0", "0.001", "0.003"),
]

# (seller admin username, legal name, country, home hub, registration number, home currency)
COMPANIES = [
    ("westlake-tea", "Hangzhou West Lake Tea Co., Ltd.", "CN", "HGH", "91330106MA2H4T0E1X", "CNY"),
    ("silkroad-beauty", "Zhejiang Silk Road Cosmetics Co., Ltd.", "CN", "HGH", "91330108MA2J7C3K5P", "CNY"),
    ("penang-batik", "Penang Batik Sdn. Bhd.", "MY", "MYS", "201901012345", "MYR"),
    ("selangor-durian", "Selangor Durian Delights Sdn. Bhd.", "MY", "MYS", "202001034567", "MYR"),
    ("yiwu-crafts", "Yiwu Bright Crafts Trading Co., Ltd.", "CN", "YIW", "91330782MA2E8B6L2Q", "CNY"),
    ("yiwu-toys", "Yiwu Little Star Toys Co., Ltd.", "CN", "YIW", "91330782MA2F1S9T7R", "CNY"),
]

INTEGRATOR = ("yiwu-erp", "yiwu-crafts", "Yiwu Bright Crafts ERP")

# (seller admin username, title, HS code, origin, unit price, measure quantity, unit, weight kg, stock)
# Every SME can sell into a hub of another country from the first click: HGH and YIW into MYS, MYS into
# HGH (CBEC retail: each is far below the single-order limit once converted) and into YIW.
LISTINGS = [
    ("westlake-tea", "West Lake Longjing green tea, 250 g tin", "090210", "CN", "168.00", "250", "g", "0.300", 200),
    ("silkroad-beauty", "Silk peptide face cream, 20 g", "330499", "CN", "425.00", "20", "g", "0.080", 80),
    ("penang-batik", "Hand-drawn batik T-shirt", "610910", "MY", "480.00", "1", "piece", "0.250", 40),
    ("selangor-durian", "Musang King durian paste, 500 g", "200899", "MY", "95.00", "500", "g", "0.600", 60),
    ("yiwu-crafts", "Woven rattan handbag", "420229", "CN", "500.00", "1", "piece", "0.700", 120),
    ("yiwu-crafts", "Christmas glass ornament set", "950510", "CN", "45.00", "1", "piece", "0.400", 500),
    ("yiwu-toys", "Plush panda toy, 30 cm", "950300", "CN", "89.00", "1", "piece", "0.350", 300),
]


# It lives in `payments`, the highest app whose rows it creates (corridors): lower apps import no higher one.
class Command(BaseCommand):
    help = (
        "Load the demo hubs with their rule sets, SMEs with listings, officers and an integrator API key. "
        "Running it again changes nothing."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with a public demo password: it runs only with DEBUG on.")
        with transaction.atomic():
            created = self.seed()
        self.stdout.write(f"Demo data: {created} rows created ({'first run' if created else 'already loaded'}).")
        self.print_logins()

    def seed(self):
        created = 0
        hubs = {}
        for code, name, country, currency, tz in HUBS:
            hubs[code], new = Hub.objects.get_or_create(
                code=code, defaults={"name": name, "country": country, "currency": currency, "timezone": tz}
            )
            created += new
            for role in (Role.HUB_OFFICER, Role.HUB_SUPERVISOR):
                created += self.member(f"{code.lower()}-{role.split('_')[1]}", role, hub=hubs[code], is_staff=True)
        companies = {}
        for username, legal_name, country, hub, registration, currency in COMPANIES:
            companies[username], new = Company.objects.get_or_create(
                country=country,
                registration_number=registration,
                # Verified by their hubs already, so that they place orders from the first click.
                defaults={"legal_name": legal_name, "home_hub": hubs[hub], "home_currency": currency, "verified": True},
            )
            created += new
            created += self.member(username, Role.SELLER_ADMIN, company=companies[username])
        username, company_key, key_name = INTEGRATOR
        created += self.member(username, Role.INTEGRATOR, company=companies[company_key])
        if not ApiKey.objects.filter(prefix=DEMO_API_KEY.partition(".")[0]).exists():
            seller_admin = User.objects.get(username=company_key)
            membership = Membership.objects.get(user__username=username, company=companies[company_key])
            api_key_issue(actor=actor_for(seller_admin), membership=membership, name=key_name, key=DEMO_API_KEY)
            created += 1
        for hub in hubs.values():
            created += len(rule_sets_load_reference(hub=hub))
        # The ECB's real rates of the last two years, as shipped offline (`fx_load` loads the rest).
        created += fx_load_offline_history(since=timezone.localdate() - timedelta(days=730))
        newest_ecb_day = FxRate.objects.filter(source=FxSource.ECB).latest("rate_date").rate_date
        _, new = FxRate.objects.get_or_create(
            source=FxSource.MANUAL,
            base="USD",
            quote="NGN",
            hub=hubs["LOS"],
            defaults={"rate": NGN_PER_USD, "rate_date": newest_ecb_day},
        )
        created += new
        for source, target, currency, cap, daily_cap, days, flat_fee, percent_fee, spread in CORRIDORS:
            _, new = Corridor.objects.get_or_create(
                from_country=source,
                to_country=target,
                defaults={
                    "currency": currency,
                    "per_transfer_cap": Decimal(cap),
                    "daily_cap": Decimal(daily_cap) if daily_cap else None,
                    "settlement_days": days,
                    "flat_fee": Decimal(flat_fee),
                    "percent_fee": Decimal(percent_fee),
                    "fx_spread": Decimal(spread),
                },
            )
            created += new
        for username, title, hs_code, origin, price, measure, unit, weight, stock in LISTINGS:
            company = companies[username]
            if not Listing.objects.filter(company=company, title=title).exists():
                listing_create(
                    actor=actor_for(User.objects.get(username=username)),
                    company=company,
                    title=title,
                    hs_code=hs_code,
                    origin_country=origin,
                    unit_price=Money(price, company.home_currency),
                    unit_weight_kg=Decimal(weight),
                    length_cm=Decimal(20),
                    width_cm=Decimal(15),
                    height_cm=Decimal(10),
                    measure_quantity=Decimal(measure),
                    measure_unit=unit,
                    stock=stock,
                    status=ListingStatus.ACTIVE,
                )
                created += 1
        return created

    def member(self, username, role, *, company=None, hub=None, is_staff=False):
        user, new_user = User.objects.get_or_create(username=username, defaults={"is_staff": is_staff})
        if new_user:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        _, new_membership = Membership.objects.get_or_create(user=user, role=role, company=company, hub=hub)
        return new_user + new_membership

    def print_logins(self):
        # The address `make run` serves, which it passes on in HOST and PORT (all interfaces: this machine's).
        host = os.environ.get("HOST") or "127.0.0.1"
        url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{os.environ.get('PORT') or '8000'}/"
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"  Portal   {url}")
        for username, legal_name, *_ in COMPANIES:
            self.stdout.write(f"    {username:<16} seller admin of {legal_name}")
        self.stdout.write(f"  Officer console   {url}admin/")
        for code, name, *_ in HUBS:
            self.stdout.write(f"    {code.lower()}-officer / {code.lower()}-supervisor   {name}")
        self.stdout.write(f"  REST API   {url}api/docs/")
        self.stdout.write(f"    Authorization: Api-Key {DEMO_API_KEY}   ({INTEGRATOR[2]})")
