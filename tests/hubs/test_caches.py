"""The caches of the hot path (`hubs.kernel.cache`): what a process keeps of hubs, published rule sets, HS codes
and verified API keys, and that a publication, a withdrawal, a supersession, a hub edit, a revocation, an expiry
and a deactivation are seen at once, in this process and in "another" one.

Another process is a second `Snapshot` over the same generation (the process's copy lives in the object; the
token lives in the shared cache), or, for API keys, the shared cache itself. Tests that need a change to
commit for real (the bump on commit) run with `transaction=True`.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hubs import fx, selectors
from hubs.kernel.cache import Generation, Memo, Snapshot, tokens_read_once
from hubs.models import FX_RATES, ApiKey, FxRate, FxSource, HSCode, RuleSet, RuleSetStatus
from hubs.scoping import actor_for
from hubs.selectors import (
    HUBS,
    RULE_SETS,
    hs_codes_validate,
    hub_by_code,
    hub_get,
    hub_today,
    rule_set_in_force,
    rules_in_force,
)
from hubs.services import (
    api_key_cache_key,
    api_key_revoke,
    fx_rate_enter,
    rule_set_copy_to_draft,
    rule_set_publish,
    rule_set_withdraw,
    rule_sets_load_reference,
)
from tests.conftest import ecb_rates_on
from tests.tenants import issue_key, key_client, make_tenant


def other_process_rule_sets():
    """A process's copy of the published rule sets, apart from this one's."""
    return Snapshot(RULE_SETS, selectors._load_published_rule_sets)


def other_process_hubs():
    return Snapshot(HUBS, selectors._load_hubs)


def versions(snapshot, hub):
    return [
        row[RuleSet._meta.concrete_fields.index(RuleSet._meta.get_field("version"))]
        for _, row in (snapshot.get()[hub.pk]["versions"])
    ]


def publish_copy(tenant, effective_from):
    """A copy of the version in force, published from `effective_from` by the hub's supervisor."""
    supervisor = actor_for(tenant.supervisor.user)
    draft = rule_set_copy_to_draft(actor=supervisor, rule_set=rule_set_in_force(tenant.hub, hub_today(tenant.hub)))
    return rule_set_publish(actor=supervisor, rule_set=draft, effective_from=effective_from)


@pytest.fixture
def hgh_rules(hgh):
    rule_sets_load_reference(hub=hgh.hub)
    return hgh


# --- the kernel ------------------------------------------------------------------------------------------


def test_a_lost_token_is_a_new_one_so_a_cleared_cache_invalidates():
    generation = Generation("test")
    loads = []
    snapshot = Snapshot(generation, lambda: loads.append(1) or len(loads))
    assert snapshot.get() == snapshot.get() == 1
    cache.clear()  # evicted, flushed, or a new Redis: never a revival of what was kept
    assert snapshot.get() == 2


class CacheTrips:
    """Counts the calls this process makes to the shared cache: each one is a round trip to Redis (the file
    cache of the tests makes `get_many` of `get`s: only the outer call counts)."""

    METHODS = ("get", "get_many", "set", "set_many", "add", "delete", "incr")

    def __init__(self, monkeypatch):
        self.calls, self.depth = [], 0
        for name in self.METHODS:
            monkeypatch.setattr(cache, name, self._counting(name, getattr(cache, name)))

    def _counting(self, name, method):
        def counted(*args, **kwargs):
            if not self.depth:
                self.calls.append(name)
            self.depth += 1
            try:
                return method(*args, **kwargs)
            finally:
                self.depth -= 1

        return counted


def test_a_scope_reads_every_token_in_one_trip_and_sees_its_own_bumps(monkeypatch):
    first, second = Generation("test-first"), Generation("test-second")
    with tokens_read_once():
        first.current()  # every token that the cache lacks is drawn
    trips = CacheTrips(monkeypatch)
    with tokens_read_once():
        token = first.current()
        assert second.current() == second.current()
        assert first.current() == token
        assert trips.calls == ["get_many"]
        first.bump()  # this request's own change: seen at once
        assert first.current() != token
        assert first.current() == cache.get(first.key)


def test_a_scope_sees_the_platform_as_it_began_and_the_next_one_sees_a_change():
    generation = Generation("test")
    with tokens_read_once():
        token = generation.current()
        cache.set(generation.key, "bumped by another process")
        assert generation.current() == token
    with tokens_read_once():
        assert generation.current() == "bumped by another process"
    cache.set(generation.key, "bumped again")
    assert generation.current() == "bumped again"  # outside a scope (a worker's task): read each time


def test_a_memo_keeps_the_most_recently_used():
    memo = Memo(size=2)
    memo.get_or_make("a", lambda: 1)
    memo.get_or_make("b", lambda: 2)
    memo.get_or_make("a", lambda: 0)
    memo.get_or_make("c", lambda: 3)
    assert "a" in memo
    assert "c" in memo
    assert "b" not in memo


# --- rule sets -------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_rule_set_in_force_and_its_rules_take_no_query_once_warm(hgh_rules, django_assert_num_queries):
    hub, today = hgh_rules.hub, hub_today(hgh_rules.hub)
    first = rule_set_in_force(hub, today).as_rules()
    with django_assert_num_queries(0):
        rule_set = rule_set_in_force(hub, today)
        rules = rule_set.as_rules()
    assert rules is first
    assert rule_set.hub is hub
    assert rule_set.version == max(RuleSet.objects.filter(hub=hub).values_list("version", flat=True))


@pytest.mark.django_db
def test_a_drafts_rules_are_never_kept(hgh_rules):
    supervisor = actor_for(hgh_rules.supervisor.user)
    draft = rule_set_copy_to_draft(
        actor=supervisor, rule_set=rule_set_in_force(hgh_rules.hub, hub_today(hgh_rules.hub))
    )
    before = draft.as_rules()
    draft.rates.filter(hs_prefix="").update(duty_rate="0.5")
    draft = RuleSet.objects.get(pk=draft.pk)
    assert draft.as_rules() is not before
    assert draft.as_rules().rate_for("999999").duty_rate == 0.5


@pytest.mark.django_db
def test_a_publication_is_seen_at_once_in_the_transaction_that_makes_it(hgh_rules):
    hub, today = hgh_rules.hub, hub_today(hgh_rules.hub)
    old = rule_set_in_force(hub, today)
    new = publish_copy(hgh_rules, today)
    assert rule_set_in_force(hub, today).pk == new.pk != old.pk
    assert rules_in_force()["HGH"].version == new.version


@pytest.mark.django_db(transaction=True)
def test_a_publication_withdrawal_and_supersession_are_seen_at_once_by_every_process(hgh_rules):
    hub, today = hgh_rules.hub, hub_today(hgh_rules.hub)
    tomorrow = today + timedelta(days=1)
    other = other_process_rule_sets()
    in_force = rule_set_in_force(hub, today)
    before = versions(other, hub)

    published = publish_copy(hgh_rules, today)  # committed: its bump on commit has run
    assert rule_set_in_force(hub, today).version == published.version != in_force.version
    assert versions(other, hub) == [*before, published.version]

    later = publish_copy(hgh_rules, tomorrow)
    assert rule_set_in_force(hub, tomorrow).version == later.version
    assert rule_set_in_force(hub, today).version == published.version
    correction = publish_copy(hgh_rules, tomorrow)  # supersedes `later`
    assert RuleSet.objects.get(pk=later.pk).status == RuleSetStatus.SUPERSEDED
    assert rule_set_in_force(hub, tomorrow).version == correction.version
    assert later.version not in versions(other, hub)

    rule_set_withdraw(actor=actor_for(hgh_rules.supervisor.user), rule_set=correction)
    assert rule_set_in_force(hub, tomorrow).version == published.version
    assert versions(other, hub) == [*before, published.version]


@pytest.mark.django_db(transaction=True)
def test_a_publication_rolled_back_is_never_kept(hgh_rules):
    hub, today = hgh_rules.hub, hub_today(hgh_rules.hub)
    in_force = rule_set_in_force(hub, today).version

    def publish_and_fail():
        with transaction.atomic():
            published = publish_copy(hgh_rules, today).version
            assert rule_set_in_force(hub, today).version == published  # seen by the transaction that makes it
            assert rules_in_force()["HGH"].version == published
            raise RuntimeError("undone")

    with pytest.raises(RuntimeError):
        publish_and_fail()
    assert rule_set_in_force(hub, today).version == in_force
    assert rules_in_force()["HGH"].version == in_force


# --- hubs ------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_hub_takes_no_query_once_warm_and_comes_fresh_each_time(hgh, django_assert_num_queries):
    hub_by_code("HGH")
    with django_assert_num_queries(0):
        hub = hub_by_code("HGH")
        assert hub_get(hgh.hub.pk).code == "HGH"
    hub.name = "changed here only"
    assert hub_by_code("HGH").name == hgh.hub.name


@pytest.mark.django_db
def test_a_hub_edit_is_seen_at_once_in_the_transaction_that_makes_it(hgh):
    hub_by_code("HGH")
    hgh.hub.fx_max_age_days = 3
    hgh.hub.save()
    assert hub_by_code("HGH").fx_max_age_days == 3


@pytest.mark.django_db(transaction=True)
def test_a_hub_edit_is_seen_at_once_by_every_process(hgh_rules):
    other = other_process_hubs()
    hub = hgh_rules.hub
    assert hub.pk in other.get()[0]
    assert hub_by_code("HGH").timezone == "Asia/Shanghai"
    assert "HGH" in rules_in_force()

    hub.timezone, hub.fx_max_age_days = "Asia/Tokyo", 5
    hub.save()  # as the console does, committed
    assert (hub_by_code("HGH").timezone, hub_by_code("HGH").fx_max_age_days) == ("Asia/Tokyo", 5)
    assert "Asia/Tokyo" in other.get()[0][hub.pk]

    hub.active = False
    hub.save()
    assert hub_by_code("HGH") is None
    assert hub_get(hub.pk).active is False
    assert "HGH" not in rules_in_force()
    assert "HGH" not in other.get()[1]


# --- HS codes --------------------------------------------------------------------------------------------


def test_known_hs_codes_take_no_query_once_found_and_an_unknown_one_is_never_kept(
    hs_nomenclature, django_assert_num_queries
):
    hs_codes_validate(["330499"], attrs=["code"])
    with django_assert_num_queries(0):
        [(code, subheading)] = hs_codes_validate(["3304.99.00"], attrs=["code"])
    assert (code, subheading.code) == ("33049900", "330499")
    assert subheading.description == HSCode.objects.get(code="330499").description

    with django_assert_num_queries(1), pytest.raises(Exception, match="979998"):
        hs_codes_validate(["979998"], attrs=["code"])
    HSCode.objects.create(code="979998", description="Test goods", level=6, section="XXI", parent_id="97")
    assert hs_codes_validate(["979998"], attrs=["code"])[0][1].description == "Test goods"


@pytest.mark.django_db(transaction=True)
def test_an_hs_code_edit_is_seen_at_once(hs_nomenclature):
    hs_codes_validate(["330499"], attrs=["code"])
    row = HSCode.objects.get(code="330499")
    row.description = "Edited"
    row.save()
    assert hs_codes_validate(["330499"], attrs=["code"])[0][1].description == "Edited"


# --- API keys --------------------------------------------------------------------------------------------


def calls(client):
    return client.get("/api/v1/hubs/")


@pytest.fixture
def integrator_key(hgh):
    """A committed key of the company's integrator (its issue, and the cast's saves, bumped API_KEYS on commit)."""
    row, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    return row, key


def cached(row):
    return cache.get(api_key_cache_key(row.pk))


@pytest.mark.django_db(transaction=True)
def test_a_verified_key_is_kept_briefly_and_then_takes_no_key_query(integrator_key, django_assert_max_num_queries):
    row, key = integrator_key
    client = key_client(key)
    assert calls(client).status_code == 200
    token, kept = cached(row)
    assert kept.pk == row.pk
    assert "password" not in kept.membership.user.__dict__  # no password hash in the shared cache
    with CaptureQueriesContext(connection) as queries:
        assert calls(client).status_code == 200
    assert not [q for q in queries.captured_queries if "hubs_apikey" in q["sql"] and "SELECT" in q["sql"]]
    # A kept key was stamped as it was kept; one kept while another process stamped it still stamps a minute on.
    ApiKey.objects.filter(pk=row.pk).update(last_used_at=None)
    kept.last_used_at = None
    cache.set(api_key_cache_key(row.pk), (token, kept))
    cache.delete(f"api-key-stamped:{row.pk}")
    assert calls(client).status_code == 200
    assert ApiKey.objects.get(pk=row.pk).last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_an_api_request_goes_to_the_cache_three_times(integrator_key, monkeypatch):
    """Key, wrong guesses and every generation token in one trip; both rate limits read in one and written in
    one; and nothing more however many hubs, rule sets and codes the request looks up."""
    row, key = integrator_key
    client = key_client(key)
    assert calls(client).status_code == 200  # the key verified and kept, its last use stamped
    trips = CacheTrips(monkeypatch)
    assert calls(client).status_code == 200
    assert trips.calls == ["get_many", "get_many", "set_many"]


@pytest.mark.django_db(transaction=True)
def test_a_revocation_is_seen_at_once_by_every_process(hgh, integrator_key):
    row, key = integrator_key
    client = key_client(key)
    assert calls(client).status_code == 200
    assert cached(row) is not None  # what every process reads

    api_key_revoke(actor=actor_for(hgh.seller_admin.user), api_key=row)
    assert cached(row) is None
    response = calls(client)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_api_key"
    assert cached(row) is None  # a failure is never kept


@pytest.mark.django_db
def test_a_revocation_is_seen_at_once_in_the_transaction_that_makes_it(hgh):
    row, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    client = key_client(key)
    assert calls(client).status_code == 200
    api_key_revoke(actor=actor_for(hgh.seller_admin.user), api_key=row)
    assert calls(client).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_an_expiry_is_checked_at_each_use_of_a_kept_key(hgh, monkeypatch):
    row, key = issue_key(hgh.seller_admin, hgh.company_integrator)
    ApiKey.objects.filter(pk=row.pk).update(expiry_date=timezone.now() + timedelta(hours=1))
    client = key_client(key)
    assert calls(client).status_code == 200
    assert cached(row)[1].expiry_date is not None

    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = calls(client)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "expired_api_key"


@pytest.mark.django_db(transaction=True)
def test_an_expiry_edit_is_seen_at_once(hgh, integrator_key):
    row, key = integrator_key
    client = key_client(key)
    assert calls(client).status_code == 200
    row = ApiKey.objects.get(pk=row.pk)
    row.expiry_date = timezone.now() - timedelta(minutes=1)
    row.save()  # as the console does
    assert calls(client).json()["errors"][0]["code"] == "expired_api_key"


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_integrator_is_refused_at_once(hgh, integrator_key):
    row, key = integrator_key
    client = key_client(key)
    assert calls(client).status_code == 200
    assert cached(row) is not None
    user = hgh.company_integrator.user
    user.is_active = False
    user.save()
    response = calls(client)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "inactive_integrator"


@pytest.mark.django_db(transaction=True)
def test_a_wrong_secret_with_a_known_prefix_is_never_served_from_the_cache(integrator_key):
    row, key = integrator_key
    assert calls(key_client(key)).status_code == 200
    prefix, _, secret = key.partition(".")
    wrong = f"{prefix}.{secret[::-1]}"
    response = calls(key_client(wrong))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_api_key"
    assert cache.get(api_key_cache_key(f"{prefix}.x")) is None


# --- FX rates ----------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rate_looked_up_once_takes_no_query_and_a_new_rate_is_seen_at_once(django_assert_num_queries):
    day = date(2026, 10, 30)
    ecb_rates_on(day)
    assert fx.fx_rate_on("MYR", "CNY", day + timedelta(days=3)).rate == Decimal("1.56")
    with django_assert_num_queries(0):
        assert fx.fx_rate_on("MYR", "CNY", day + timedelta(days=3)).rate == Decimal("1.56")

    # a newer day loaded in bulk, as `fx_load` does
    ecb_rates_on(day + timedelta(days=1), {"CNY": Decimal("8.0"), "MYR": Decimal("5.0")})
    assert fx.fx_rate_on("MYR", "CNY", day + timedelta(days=3)).rate == Decimal("1.6")

    # "another process": a copy made before the change is made again
    other = Snapshot(FX_RATES, dict)
    other.get()[("NGN", day)] = None
    supervisor = make_tenant("NGA", "NG", "NGN", "Africa/Lagos").supervisor
    fx_rate_enter(
        actor=actor_for(supervisor.user),
        hub=supervisor.hub,
        base="EUR",
        quote="NGN",
        rate=Decimal("1600"),
        rate_date=day,
    )
    assert ("NGN", day) not in other.get()
    assert fx.fx_rate_on("NGN", "EUR", day).rate == 1 / Decimal("1600")
    assert FxRate.objects.filter(source=FxSource.MANUAL).count() == 1
