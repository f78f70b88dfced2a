"""Rates through the API: a parcel's chargeable weight by mode and the carrier's services for it, in Decimal money;
an unknown route or a bad measure is a clear 400."""

import pytest

from tests.tenants import session_client

CARTON = {"weight_kg": "14", "length_cm": "30", "width_cm": "45", "height_cm": "65"}


def test_rates_give_the_chargeable_weight_and_the_carriers_services(hkg, hgh):
    client = session_client(hkg.seller_admin)
    air = client.get("/api/v1/rates/", {"origin": "HKG", "destination": "HGH", **CARTON}).json()
    assert air["chargeable_kg"] == "15.000"  # 14.625 kg volumetric by air, rounded up to 0.5 kg
    assert [rate["service"] for rate in air["rates"]] == ["economy", "express"]
    assert air["rates"][0]["amount"]["currency"] == "USD"
    courier = client.get("/api/v1/rates/", {"origin": "HKG", "destination": "HGH", "mode": "courier", **CARTON})
    assert courier.json()["chargeable_kg"] == "18.000"  # 17.55 kg volumetric at 5,000 cm³ a kg


@pytest.mark.parametrize(
    ("change", "code", "attr"),
    [
        ({"destination": "HKG"}, "unknown_route", "non_field_errors"),
        ({"destination": "XXX"}, "unknown_route", "non_field_errors"),
        ({"weight_kg": "0"}, "min_value", "weight_kg"),
        ({"height_cm": ""}, "invalid", "height_cm"),
        ({"mode": "rocket"}, "invalid_choice", "mode"),
    ],
)
def test_a_bad_rate_request_is_a_clear_400(hkg, hgh, change, code, attr):
    answer = session_client(hkg.seller_admin).get(
        "/api/v1/rates/", {"origin": "HKG", "destination": "HGH", **CARTON, **change}
    )
    assert answer.status_code == 400
    assert (answer.json()["errors"][0]["code"], answer.json()["errors"][0]["attr"]) == (code, attr)
