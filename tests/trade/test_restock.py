"""Stock changes relatively (`listing_restock`), so that a restock never overwrites the units orders take at
the same moment; an update refuses to set it. Through the service, the API and the portal."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent
from hubs.scoping import actor_for
from tests.tenants import session_client
from tests.trade.conftest import BUYER, make_listing, quote_listing
from trade.models import Listing, ListingStatus, Order
from trade.services import listing_archive, listing_restock, listing_update, order_place


def stock(listing):
    return Listing.objects.get(pk=listing.pk).stock


def refusal(call):
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.code, refused.value.attr


# --- the service ----------------------------------------------------------------------------------------


def test_a_restock_adds_to_the_stock_as_it_is_and_is_an_audit_event(handbag, hkg):
    restocked = listing_restock(actor=actor_for(hkg.seller_staff.user), listing=handbag, delta=5)

    assert restocked.stock == stock(handbag) == 15
    event = AuditEvent.objects.get(verb="listing.restocked")
    assert event.data == {"delta": 5, "change": "+5", "stock": 15}
    assert event.sentence == f"Stock +5 by {hkg.seller_staff.user}: 15 in stock"


def test_a_restock_from_a_stale_copy_keeps_the_units_an_order_took_meanwhile(handbag, hkg, hgh):
    # given a seller's copy of the listing read at 10 units, and then an order that takes 2 of them
    stale = Listing.objects.get(pk=handbag.pk)
    order_place(actor=actor_for(hkg.seller_admin.user), quote=quote_listing(hkg, hgh, handbag, quantity=2), buyer=BUYER)
    assert stock(handbag) == 8

    # when the seller restocks 5 units from its stale copy
    listing_restock(actor=actor_for(hkg.seller_admin.user), listing=stale, delta=5)

    # then the order's units stay taken: 8 + 5, not 10 + 5
    assert stock(handbag) == 13


def test_units_are_taken_off_never_below_zero(handbag, hkg):
    actor = actor_for(hkg.seller_admin.user)
    assert listing_restock(actor=actor, listing=handbag, delta=-3).stock == 7

    assert refusal(lambda: listing_restock(actor=actor, listing=handbag, delta=-8)) == ("insufficient_stock", "delta")
    assert listing_restock(actor=actor, listing=handbag, delta=-7).stock == 0
    assert AuditEvent.objects.filter(verb="listing.restocked").count() == 2


@pytest.mark.parametrize("delta", [0, Listing.MAX_STOCK + 1, -(10**30), True, "5", 2.5])
def test_a_restock_needs_a_whole_number_of_units_other_than_zero(handbag, hkg, delta):
    actor = actor_for(hkg.seller_admin.user)
    assert refusal(lambda: listing_restock(actor=actor, listing=handbag, delta=delta)) == ("invalid_delta", "delta")
    assert stock(handbag) == 10


def test_stock_never_passes_the_largest_a_column_holds(hkg, rules):
    listing = make_listing(hkg, stock=Listing.MAX_STOCK - 1)
    actor = actor_for(hkg.seller_admin.user)

    assert refusal(lambda: listing_restock(actor=actor, listing=listing, delta=2)) == ("invalid_stock", "delta")
    assert listing_restock(actor=actor, listing=listing, delta=1).stock == Listing.MAX_STOCK


def test_an_archived_listing_is_not_restocked(handbag, hkg):
    actor = actor_for(hkg.seller_admin.user)
    listing_archive(actor=actor, listing=handbag)

    assert refusal(lambda: listing_restock(actor=actor, listing=handbag, delta=1)) == ("archived", None)
    assert stock(handbag) == 10


@pytest.mark.parametrize("who", ["hkg.officer", "mys.company_integrator", "mys.seller_admin"])
def test_only_the_companys_people_restock(handbag, hkg, mys, who):
    tenant, role = who.split(".")
    actor = actor_for(getattr({"hkg": hkg, "mys": mys}[tenant], role).user)
    with pytest.raises(PermissionDenied):
        listing_restock(actor=actor, listing=handbag, delta=5)
    assert stock(handbag) == 10


def test_an_update_may_repeat_the_stock_but_never_set_it(handbag, hkg):
    actor = actor_for(hkg.seller_admin.user)

    # repeating the stock it holds changes nothing else than what is asked
    listing_update(actor=actor, listing=handbag, stock=10, title="Rattan handbag")
    assert (stock(handbag), Listing.objects.get(pk=handbag.pk).title) == (10, "Rattan handbag")

    # setting another number is refused, and writes nothing
    code, attr = refusal(lambda: listing_update(actor=actor, listing=handbag, stock=50, title="Other"))
    assert (code, attr) == ("stock_read_only", "stock")
    assert (stock(handbag), Listing.objects.get(pk=handbag.pk).title) == (10, "Rattan handbag")


@pytest.mark.django_db(transaction=True)
def test_parallel_restocks_and_orders_lose_no_unit(hs_nomenclature, hkg, hgh, rules):
    # given 6 units, six orders of one unit each and six restocks of 3 units, all at once
    listing = make_listing(hkg, stock=6)
    actor = actor_for(hkg.seller_admin.user)
    consumers = [f"33010619900101{i:04d}" for i in range(6)]
    quotes = [quote_listing(hkg, hgh, listing, consumer_id=consumer) for consumer in consumers]
    start = threading.Barrier(12)

    def act(i):
        try:
            start.wait()
            if i < 6:
                buyer = {**BUYER, "id_number": consumers[i]}
                order_place(actor=actor, quote=quotes[i], buyer=buyer)
            else:
                listing_restock(actor=actor, listing=listing, delta=3)
            return "done"
        except DomainError as refused:
            return refused.code
        finally:
            connection.close()

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(act, range(12)))

    # then every order and every restock counts: 6 − 6 + 18
    assert outcomes == ["done"] * 12
    assert Order.objects.count() == 6
    assert stock(listing) == 18


# --- the API --------------------------------------------------------------------------------------------


@pytest.fixture
def api(hkg, rules):
    return session_client(hkg.seller_admin)


def test_the_api_restocks_relatively(api, handbag):
    response = api.post(f"/api/v1/listings/{handbag.public_id}/restock/", {"delta": 5}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["stock"] == 15

    response = api.post(f"/api/v1/listings/{handbag.public_id}/restock/", {"delta": -15}, format="json")
    assert response.json()["stock"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"delta": 0}, "invalid_delta"),
        ({"delta": -11}, "insufficient_stock"),
        ({"delta": "many"}, "invalid"),
        ({}, "required"),
        ({"delta": 10**12}, "max_value"),
    ],
)
def test_a_bad_restock_is_400_and_changes_nothing(api, handbag, body, code):
    response = api.post(f"/api/v1/listings/{handbag.public_id}/restock/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert stock(handbag) == 10


def test_an_absolute_stock_patch_is_refused_and_a_repeated_one_is_not(api, handbag):
    refused = api.patch(f"/api/v1/listings/{handbag.public_id}/", {"stock": 3}, format="json")
    assert refused.status_code == 400
    assert (refused.json()["errors"][0]["code"], refused.json()["errors"][0]["attr"]) == ("stock_read_only", "stock")
    assert "restock" in refused.json()["errors"][0]["detail"]
    assert stock(handbag) == 10

    repeated = api.patch(f"/api/v1/listings/{handbag.public_id}/", {"stock": 10, "title": "Bag"}, format="json")
    assert repeated.status_code == 200
    assert (repeated.json()["stock"], repeated.json()["title"]) == (10, "Bag")


def test_another_tenant_cannot_restock(handbag, mys, hgh):
    for membership in (mys.seller_admin, hgh.officer):
        client = session_client(membership)
        response = client.post(f"/api/v1/listings/{handbag.public_id}/restock/", {"delta": 5}, format="json")
        assert response.status_code in (403, 404)
    assert stock(handbag) == 10


# --- the portal -----------------------------------------------------------------------------------------


@pytest.fixture
def seller(client, hkg, rules):
    client.force_login(hkg.seller_admin.user)
    return client


def test_the_portal_restocks_from_the_listing_page_and_edits_no_stock(seller, handbag):
    # the edit form has no stock field: the listing page has a restock form instead
    edit = seller.get(f"/listings/{handbag.public_id}/edit/")
    assert "stock" not in edit.context["form"].fields
    page = seller.get(f"/listings/{handbag.public_id}/").content.decode()
    assert f'action="/listings/{handbag.public_id}/restock/"' in page
    assert "Units to add" in page

    response = seller.post(f"/listings/{handbag.public_id}/restock/", {"delta": "4"}, follow=True)

    assert f"{handbag.public_id} has 14 in stock." in response.content.decode()
    assert stock(handbag) == 14


def test_the_portal_shows_a_refused_restock_on_its_field(seller, handbag):
    response = seller.post(f"/listings/{handbag.public_id}/restock/", {"delta": "-11"})
    assert response.status_code == 200
    assert response.context["restock_form"].errors == {
        "delta": [f"{handbag.public_id} has 10 in stock: 11 cannot be taken off."]
    }

    response = seller.post(f"/listings/{handbag.public_id}/restock/", {"delta": "0"})
    assert "not zero" in response.context["restock_form"].errors["delta"][0]
    assert stock(handbag) == 10


def test_an_edit_posting_a_stock_leaves_it_alone(seller, handbag):
    form = {
        "title": "Rattan handbag",
        "hs_code": "420221",
        "origin_country": "HK",
        "unit_price": "500.00",
        "unit_weight_kg": "0.7",
        "length_cm": "30",
        "width_cm": "10",
        "height_cm": "25",
        "measure_quantity": "1",
        "measure_unit": "piece",
        "status": ListingStatus.ACTIVE,
        "stock": "999",
    }
    response = seller.post(f"/listings/{handbag.public_id}/edit/", form)

    assert response.status_code == 302
    listing = Listing.objects.get(pk=handbag.pk)
    assert (listing.title, listing.stock) == ("Rattan handbag", 10)
