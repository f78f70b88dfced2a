"""Inputs found by fuzzing that reached a server error: each is now a clear 4xx, on every front door."""

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from hubs.kernel.errors import DomainError
from hubs.kernel.money import MAX_AMOUNT
from hubs.scoping import actor_for
from tests.tenants import session_client
from tests.trade.conftest import make_listing
from trade.models import Listing
from trade.services import listing_update

pytestmark = pytest.mark.django_db

TOO_MUCH = "99999999999999.99"  # fits the column's 16 digits, not a float's 15


def errors(response, status=400):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in ("client_error", "validation_error")
    return [(error["code"], error["attr"]) for error in body["errors"]]


@pytest.fixture
def seller(hkg):
    return session_client(hkg.seller_admin)


@pytest.fixture
def listing(hkg, rules):
    return make_listing(hkg)


# --- bodies ------------------------------------------------------------------------------------------------


def test_json_nested_beyond_the_parser_is_a_400(seller):
    body = "[" * 100_000 + "]" * 100_000
    response = seller.post("/api/v1/listings/", body, content_type="application/json")
    assert errors(response) == [("parse_error", None)]


@pytest.mark.parametrize("path", ["/api/v1/listings/", "/api/v1/quotes/", "/api/v1/nowhere/"])
def test_a_body_over_the_limit_is_a_413_in_the_error_shape(seller, settings, path):
    body = b'{"title": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = seller.generic("POST", path, body, content_type="application/json")
    assert errors(response, 413) == [("request_too_large", None)]
    assert "3,145,7" in response.json()["errors"][0]["detail"]


def test_a_portal_form_over_the_limit_is_a_413(client, hkg):
    client.force_login(hkg.seller_admin.user)
    response = client.post(reverse("trade:listing-new"), {"title": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_the_body_limit_comes_from_settings(seller, settings, listing):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = seller.patch(f"/api/v1/listings/{listing.public_id}/", {"title": "t" * 200}, format="json")
    assert errors(response, 413) == [("request_too_large", None)]


# --- query strings -------------------------------------------------------------------------------------------


def test_a_nul_character_in_a_query_is_a_400_in_the_api_and_the_portal(seller, client, hkg):
    assert errors(seller.get("/api/v1/hs-codes/", {"q": "bag\x00"})) == [("null_character", None)]
    client.force_login(hkg.seller_admin.user)
    response = client.get(reverse("hs-codes"), {"q": "\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59", "-23:59", "+00:00", "+14:00"])
def test_order_filters_take_any_offset_python_reads(seller, client, hkg, offset):
    """PostgreSQL refuses offsets beyond ±15:59: the filter compares in UTC."""
    value = f"2026-01-01T00:00:00{offset}"
    for name in ("placed_after", "placed_before"):
        response = seller.get("/api/v1/orders/", {name: value})
        assert response.status_code == 200, response.content
    client.force_login(hkg.seller_admin.user)
    assert client.get(reverse("trade:orders"), {"placed_after": value, "placed_before": value}).status_code == 200


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00+24:00", "2026-13-01", "yesterday"])
def test_an_unreadable_order_filter_date_is_a_400(seller, value):
    assert errors(seller.get("/api/v1/orders/", {"placed_after": value})) == [("invalid", "placed_after")]


@override_settings(DEBUG=True)
def test_an_unknown_api_address_answers_the_error_shape_with_debug_on(seller):
    assert errors(seller.get("/api/v1/no-such-thing/"), 404) == [("not_found", None)]


# --- money ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "missing"),
    [({}, ["amount", "currency"]), ({"amount": "12.00"}, ["currency"]), ({"currency": "CNY"}, ["amount"])],
)
def test_a_partial_price_on_patch_is_a_400_naming_what_is_missing(seller, listing, price, missing):
    response = seller.patch(f"/api/v1/listings/{listing.public_id}/", {"unit_price": price}, format="json")
    assert sorted(errors(response)) == [("required", f"unit_price.{name}") for name in missing]


@pytest.mark.parametrize("method", ["post", "patch"])
def test_an_amount_beyond_what_the_database_returns_exactly_is_refused_by_the_api(seller, listing, method):
    price = {"amount": TOO_MUCH, "currency": "CNY"}
    if method == "post":
        body = {"title": "Gold", "hs_code": "420221", "unit_price": price, "stock": 1, "unit_weight_kg": "1"}
        body |= {"length_cm": "1", "width_cm": "1", "height_cm": "1"}
        response = seller.post("/api/v1/listings/", body, format="json")
    else:
        response = seller.patch(f"/api/v1/listings/{listing.public_id}/", {"unit_price": price}, format="json")
    assert ("amount_out_of_range", "unit_price.amount") in errors(response)


def test_an_amount_out_of_range_is_refused_by_the_portal_form(client, hkg, listing):
    client.force_login(hkg.seller_admin.user)
    response = client.get(reverse("trade:listing-edit", args=[listing.public_id]))
    form = response.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    response = client.post(reverse("trade:listing-edit", args=[listing.public_id]), {**data, "unit_price": TOO_MUCH})
    assert response.status_code == 200
    assert f"{MAX_AMOUNT:,}" in " ".join(response.context["form"].errors["unit_price"])


def test_an_amount_out_of_range_is_refused_on_any_write(hkg, listing):
    from djmoney.money import Money

    with pytest.raises(DomainError) as refused:
        listing_update(actor=actor_for(hkg.seller_admin.user), listing=listing, unit_price=Money(TOO_MUCH, "CNY"))
    assert (refused.value.code, refused.value.attr) == ("amount_out_of_range", "unit_price")
    with pytest.raises(DomainError):
        Listing.objects.filter(pk=listing.pk).update(unit_price=Decimal(TOO_MUCH))


def test_the_largest_amount_is_stored_and_read_back_exactly_on_every_page(seller, client, hkg, listing):
    listing.unit_price = listing.unit_price.__class__(MAX_AMOUNT, "CNY")
    listing.save()
    listed = seller.get("/api/v1/listings/")
    assert listed.status_code == 200
    assert listed.json()["results"][0]["unit_price"]["amount"] == f"{MAX_AMOUNT}"
    client.force_login(hkg.seller_admin.user)
    for url in (reverse("trade:listings"), reverse("trade:listing-detail", args=[listing.public_id])):
        assert client.get(url).status_code == 200
