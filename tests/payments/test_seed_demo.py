import pytest
from django.core.management import CommandError, call_command

from hubs.models import ApiKey, AuditEvent, Company, FxRate, Hub, Membership, RateRow, Role, RuleSet, User
from hubs.scoping import actor_for
from payments.management.commands.seed_demo import DEMO_API_KEY, DEMO_PASSWORD
from payments.models import Corridor
from trade.models import Listing
from trade.selectors import sellability
from trade.services import QuoteLineRequest, quote_create

MODELS = [Hub, Company, User, Membership, ApiKey, AuditEvent, RuleSet, RateRow, Listing, FxRate, Corridor]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_loads_the_four_hubs_and_their_cast(db, settings, client):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    hubs = {hub.code: (hub.country.code, hub.currency, hub.timezone) for hub in Hub.objects.all()}
    assert hubs == {
        "HGH": ("CN", "CNY", "Asia/Shanghai"),
        "MYS": ("MY", "MYR", "Asia/Kuala_Lumpur"),
        "YIW": ("CN", "CNY", "Asia/Shanghai"),
        "LOS": ("NG", "NGN", "Africa/Lagos"),
    }
    for hub in Hub.objects.exclude(code="LOS"):  # Lagos is a hub of buyers
        assert hub.companies.count() >= 2
        assert hub.listings.filter(status="active").exists()
        assert hub.rule_sets.filter(status="published").exists()
        roles = set(Membership.objects.filter(hub=hub).values_list("role", flat=True))
        assert {Role.HUB_OFFICER, Role.HUB_SUPERVISOR} <= roles
    logged_in = client.post("/admin/login/", {"username": "hgh-officer", "password": DEMO_PASSWORD})
    assert logged_in.status_code == 302
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Api-Key {DEMO_API_KEY}").status_code == 200


def test_running_seed_demo_twice_changes_nothing(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = counts()
    passwords = dict(User.objects.values_list("username", "password"))

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    assert counts() == first
    assert dict(User.objects.values_list("username", "password")) == passwords


def test_seed_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("seed_demo")
    assert not Hub.objects.exists()


def test_every_demo_sme_sells_into_a_foreign_hub_from_the_first_click(db, settings):
    # given the demo data, with the ECB's real rates loaded offline
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert FxRate.objects.filter(base="EUR", quote="MYR").exists()
    hubs = {hub.code: hub for hub in Hub.objects.all()}

    for company in Company.objects.select_related("home_hub"):
        # when its seller admin looks at its listings: each is quotable into a hub of another country
        listing = Listing.objects.filter(company=company, status="active").select_related("hub").first()
        quotable = [v["hub"] for v in sellability([listing])[listing.pk] if v["quotable"]]
        assert quotable, f"{company} can sell nowhere"
        assert all(hubs[code].country != company.home_hub.country for code in quotable)

        # and a quote into the first of them converts the price at a real ECB rate
        seller = Membership.objects.get(company=company, role=Role.SELLER_ADMIN).user
        quote = quote_create(
            actor=actor_for(seller),
            company=company,
            origin_hub=company.home_hub,
            destination_hub=hubs[quotable[0]],
            consumer_id="330106199001011234",
            lines=[QuoteLineRequest(quantity=1, listing=listing)],
        )
        assert [c["source"] for c in quote.conversions][0].startswith("ECB ")


def test_the_nigeria_case_is_data_a_lagos_hub_its_ngn_rate_and_its_corridor(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    lagos = Hub.objects.get(code="LOS")
    assert "UNVERIFIED" in lagos.rule_sets.get(status="published").notes
    assert FxRate.objects.filter(source="manual", base="USD", quote="NGN", hub=lagos).exists()
    corridor = Corridor.objects.get(from_country="NG", to_country="CN")
    assert (corridor.currency, corridor.per_transfer_cap) == ("USD", 10000)
    # a Yiwu seller quotes into Lagos at once, its CNY converted into NGN through EUR and USD
    listing = Listing.objects.filter(company__home_hub__code="YIW", status="active").first()
    assert "LOS" in [v["hub"] for v in sellability([listing])[listing.pk] if v["quotable"]]
