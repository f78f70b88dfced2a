"""Answers that carry buyer details are never kept by a browser or proxy, and the API's stored answers
never hold a consumer's ID number in clear."""

import pytest
from django.urls import reverse

from hubs.models import Claim
from tests.tenants import session_client
from tests.trade.conftest import BUYER, CONSUMER, quote_listing

pytestmark = pytest.mark.django_db


def test_pages_and_api_answers_with_buyer_details_are_never_stored(hkg, hgh, handbag):
    seller = session_client(hkg.seller_admin)
    quote = quote_listing(hkg, hgh, handbag)
    placed = seller.post("/api/v1/orders/", {"quote": quote.public_id, "buyer": BUYER}, format="json")
    assert placed.status_code == 201, placed.json()
    order_id = placed.json()["id"]
    for response in (
        placed,
        seller.get(f"/api/v1/orders/{order_id}/"),
        seller.get(reverse("trade:order-detail", args=[order_id])),
        seller.get(reverse("trade:orders")),
    ):
        assert response.status_code == 200 or response.status_code == 201
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_a_stored_idempotent_answer_holds_no_id_number_in_clear(hkg, hgh, handbag):
    seller = session_client(hkg.seller_admin)
    quote = quote_listing(hkg, hgh, handbag)
    body = {"quote": quote.public_id, "buyer": BUYER}
    placed = seller.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert placed.status_code == 201, placed.json()
    stored = Claim.objects.get(key="order-1")
    assert CONSUMER not in str(stored.result)
    assert CONSUMER not in stored.fingerprint
