import pytest
from django.core.management import CommandError, call_command

from hubs.models import ApiKey, AuditEvent, Company, Hub, Membership, RateRow, Role, RuleSet, User
from trade.management.commands.seed_demo import DEMO_API_KEY, DEMO_PASSWORD
from trade.models import Listing

MODELS = [Hub, Company, User, Membership, ApiKey, AuditEvent, RuleSet, RateRow, Listing]


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_loads_the_three_hubs_and_their_cast(db, settings, client):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    hubs = {hub.code: (hub.country.code, hub.currency, hub.timezone) for hub in Hub.objects.all()}
    assert hubs == {
        "HGH": ("CN", "CNY", "Asia/Shanghai"),
        "MYS": ("MY", "MYR", "Asia/Kuala_Lumpur"),
        "YIW": ("CN", "CNY", "Asia/Shanghai"),
    }
    for hub in Hub.objects.all():
        assert hub.companies.count() >= 2
        assert hub.listings.filter(status="active").exists()
        assert hub.rule_sets.filter(status="published").exists()
        roles = set(Membership.objects.filter(hub=hub).values_list("role", flat=True))
        assert {Role.HUB_OFFICER, Role.HUB_SUPERVISOR} <= roles
    assert client.login(username="hgh-officer", password=DEMO_PASSWORD)
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
