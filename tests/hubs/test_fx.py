"""FX reference rates: the rate in force, cross rates through EUR, one rounding, the API and the console."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import given, settings
from hypothesis import strategies as st

from hubs.fx import fx_rate_on
from hubs.kernel.errors import DomainError
from hubs.kernel.money import minor_unit, round_money
from hubs.models import AuditEvent, FxRate, FxSource
from hubs.scoping import actor_for
from hubs.services import fx_rate_enter
from tests.conftest import ECB_DATE, ecb_rates_on
from tests.tenants import session_client

ON = date(2026, 11, 2)


def test_a_cross_rate_goes_through_eur_unrounded_and_only_the_amount_is_rounded(ecb_rates):
    # given EUR→CNY 7.8 and EUR→MYR 5.0 (the reference facts' example)
    rate = fx_rate_on("CNY", "MYR", ON)

    # then the cross rate stays unrounded, and CNY 1,000.00 is MYR 641.03
    assert rate.rate == Decimal(5) / Decimal("7.8")
    conversion = rate.convert(Money("1000.00", "CNY"))
    assert conversion.amount == Money("641.03", "MYR")
    assert conversion.explanation == "CNY 1000.00 × 0.64102564 (ECB 2026-10-30, via EUR) = MYR 641.03"
    assert [snapshot.quote for snapshot in conversion.snapshots] == ["CNY", "MYR"]


def test_the_rate_in_force_is_the_latest_on_or_before_the_date(ecb_rates):
    ecb_rates_on(ON + timedelta(days=1), {"CNY": Decimal("8.0"), "MYR": Decimal("5.0")})
    assert fx_rate_on("MYR", "CNY", ON).rate == Decimal("1.56")
    assert fx_rate_on("MYR", "CNY", ON + timedelta(days=1)).rate == Decimal("1.6")


def test_a_missing_rate_is_fx_unavailable_naming_the_pair(ecb_rates):
    with pytest.raises(DomainError) as refusal:
        fx_rate_on("MYR", "THB", ON)
    assert refusal.value.code == "fx_unavailable"
    assert "MYR → THB" in refusal.value.detail
    with pytest.raises(DomainError) as before_any:
        fx_rate_on("MYR", "CNY", ECB_DATE - timedelta(days=1))
    assert before_any.value.code == "fx_unavailable"


def test_an_old_rate_is_fx_stale_naming_the_pair_and_its_date(ecb_rates):
    with pytest.raises(DomainError) as refusal:
        fx_rate_on("MYR", "CNY", ON, max_age_days=2)
    assert refusal.value.code == "fx_stale"
    assert "MYR → CNY" in refusal.value.detail
    assert "2026-10-30" in refusal.value.detail
    assert fx_rate_on("MYR", "CNY", ON, max_age_days=3).rate == Decimal("1.56")


def test_an_unknown_currency_is_refused(ecb_rates):
    with pytest.raises(DomainError) as refusal:
        fx_rate_on("MYR", "ABC", ON)
    assert (refusal.value.code, refusal.value.attr) == ("unknown_currency", "quote")


def test_a_supervisor_enters_a_rate_the_ecb_does_not_publish(mys, ecb_rates):
    # given a supervisor's CBN rate for NGN against USD, which the ECB publishes
    fx_rate_enter(
        actor=actor_for(mys.supervisor.user), hub=mys.hub, base="USD", quote="NGN", rate=Decimal("1500"), rate_date=ON
    )

    # then NGN converts through USD and EUR, and the entry is an audit event of the hub
    rate = fx_rate_on("MYR", "NGN", ON)
    assert rate.rate == Decimal("1.1") * Decimal(1500) / Decimal(5)
    assert rate.provenance == "ECB 2026-10-30, entered at MYS 2026-11-02, via EUR/USD"
    event = AuditEvent.objects.get(verb="fx_rate.entered")
    assert list(event.hubs.all()) == [mys.hub]
    assert event.sentence == f"Rate USD/NGN 1500 for 2026-11-02 entered by {mys.supervisor.user}"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"rate": Decimal(0)}, "invalid_rate"),
        ({"rate": Decimal(-1)}, "invalid_rate"),
        ({"quote": "XYZ"}, "unknown_currency"),
        ({"quote": "USD"}, "same_currency"),
        ({"rate_date": date(2999, 1, 1)}, "invalid_date"),
    ],
)
def test_a_bad_rate_is_refused_and_nothing_is_stored(mys, fields, code):
    entry = {"base": "USD", "quote": "NGN", "rate": Decimal("1500"), "rate_date": ON, **fields}
    with pytest.raises(DomainError) as refusal:
        fx_rate_enter(actor=actor_for(mys.supervisor.user), hub=mys.hub, **entry)
    assert refusal.value.code == code
    assert not FxRate.objects.exists()


def test_only_a_supervisor_of_the_hub_enters_rates(mys, hgh):
    from django.core.exceptions import PermissionDenied

    for who in (mys.officer, hgh.supervisor, mys.seller_admin):
        with pytest.raises(PermissionDenied):
            fx_rate_enter(
                actor=actor_for(who.user), hub=mys.hub, base="USD", quote="NGN", rate=Decimal(1), rate_date=ON
            )


def test_the_console_takes_a_supervisors_rate_and_refuses_an_officer(mys, client):
    form = {"hub": mys.hub.pk, "base": "USD", "quote": "NGN", "rate": "1500.5", "rate_date": "2026-11-02"}
    client.force_login(mys.officer.user)
    assert client.post("/admin/hubs/fxrate/add/", form).status_code == 403

    client.force_login(mys.supervisor.user)
    response = client.post("/admin/hubs/fxrate/add/", form)
    assert response.status_code == 302, response.content
    stored = FxRate.objects.get()
    assert (stored.source, stored.rate, stored.entered_by) == (FxSource.MANUAL, Decimal("1500.5"), mys.supervisor.user)
    assert AuditEvent.objects.filter(verb="fx_rate.entered", actor=mys.supervisor.user).count() == 1
    assert client.get(f"/admin/hubs/fxrate/{stored.pk}/change/").status_code == 200  # read-only view
    assert client.post("/admin/hubs/fxrate/add/", {**form, "rate": "0"}).status_code == 200  # form error
    assert FxRate.objects.count() == 1


def test_the_api_answers_the_rate_the_platform_would_use(hgh, ecb_rates):
    client = session_client(hgh.seller_admin)
    body = client.get("/api/v1/fx-rates/", {"base": "MYR", "quote": "CNY", "date": "2026-11-02"}).json()
    assert (body["rate"], body["rate_date"], body["source"]) == ("1.56", "2026-10-30", "ECB 2026-10-30, via EUR")
    assert [(s["base"], s["quote"], s["rate"]) for s in body["snapshots"]] == [
        ("EUR", "MYR", "5.0000000000"),
        ("EUR", "CNY", "7.8000000000"),
    ]
    for query, code in (
        ({"base": "MYR"}, "required"),
        ({"base": "MYR", "quote": "THB"}, "fx_unavailable"),
        ({"base": "MYR", "quote": "ZZZ"}, "unknown_currency"),
        ({"base": "MYR", "quote": "CNY", "date": "2026-13-01"}, "invalid"),
    ):
        response = client.get("/api/v1/fx-rates/", query)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["code"] == code


CURRENCIES = ["CNY", "MYR", "USD", "JPY", "IDR"]
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2)
ecb_values = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("20000"), places=4)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES), amounts, st.lists(ecb_values, min_size=5, max_size=5))
def test_property_one_rounding_no_float_and_a_round_trip_within_that_rounding(a, b, amount, values):
    from hubs.fx import CrossRate

    # given EUR rates for each currency (as the snapshots would give them)
    eur = dict(zip(CURRENCIES, values, strict=True))
    there = CrossRate(a, b, eur[b] / eur[a], ())
    back = CrossRate(b, a, eur[a] / eur[b], ())

    # when an amount goes A → B → A
    start = round_money(amount, a)
    converted = there.convert(Money(start, a)).amount
    returned = back.convert(converted).amount

    # then each conversion is one half-up rounding of the exact product, in Decimal at the minor unit
    assert isinstance(converted.amount, Decimal)
    assert converted.amount == round_money(start * there.rate, b)
    assert converted.amount.as_tuple().exponent == minor_unit(b).as_tuple().exponent
    # and the round trip is off by no more than the two roundings allow
    allowed = minor_unit(b) / 2 * back.rate + minor_unit(a) / 2
    assert abs(returned.amount - start) <= allowed + Decimal("1e-20")
