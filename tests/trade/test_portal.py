"""The SME portal's listings, quote calculator and orders, through the Django test client."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from hubs.models import AuditEvent, Company, Role
from hubs.scoping import actor_for
from hubs.services import company_verify
from tests.factories import MembershipFactory
from tests.trade.conftest import BUYER, CONSUMER, make_listing
from trade.models import Listing, ListingStatus, Order, OrderStatus, Quote
from trade.services import QuoteLineRequest, order_place, quote_create

LISTING_FORM = {
    "title": "Woven rattan handbag",
    "description": "Hand-woven in Yiwu.",
    "hs_code": "4202.21",
    "origin_country": "CN",
    "unit_price": "500.00",
    "unit_weight_kg": "0.7",
    "length_cm": "30",
    "width_cm": "10",
    "height_cm": "25",
    "measure_quantity": "1",
    "measure_unit": "piece",
    "stock": "10",
    "status": "active",
}

BUYER_FORM = BUYER


def quote_form(lines, origin="HKG", destination="HGH", consumer=CONSUMER, freight=""):
    """The calculator's POST: the route, and one formset row per line (plus an empty one)."""
    data = {
        "origin_hub": origin,
        "destination_hub": destination,
        "consumer_id": consumer,
        "freight": freight,
        "lines-TOTAL_FORMS": str(len(lines) + 1),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50",
    }
    for i, line in enumerate([*lines, {}]):
        blank = {"listing": "", "quantity": "1", "hs_code": "", "description": "", "unit_price": ""}
        fields = {**blank, "measure_quantity": "1", "measure_unit": "piece", **line}
        data.update({f"lines-{i}-{name}": value for name, value in fields.items()})
    return data


def place_quote(tenant, listing, destination, quantity=1, consumer=CONSUMER):
    return quote_create(
        actor=actor_for(tenant.seller_admin.user),
        company=tenant.company,
        origin_hub=tenant.hub,
        destination_hub=destination,
        consumer_id=consumer,
        lines=[QuoteLineRequest(quantity=quantity, listing=listing)],
    )


def place_order(tenant, listing, destination, quantity=1):
    quote = place_quote(tenant, listing, destination, quantity)
    return order_place(actor=actor_for(tenant.seller_admin.user), quote=quote, buyer=BUYER_FORM)


@pytest.fixture
def seller(client, hkg, rules):
    """A Hong Kong trader invoicing in CNY: its goods cross into Hangzhou without conversion."""
    client.force_login(hkg.seller_admin.user)
    return client


# --- access ---------------------------------------------------------------------------------------------


def test_pages_need_a_login(client, db):
    for url in ["/listings/", "/listings/new/", "/quotes/new/", "/orders/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_an_officer_lists_nothing_and_quotes_nothing(client, hgh):
    client.force_login(hgh.officer.user)
    assert client.get("/listings/").status_code == 200
    assert client.get("/listings/new/").status_code == 403
    assert client.get("/quotes/new/").status_code == 403


def test_another_companys_listing_quote_and_order_answer_404(client, handbag, hkg, hgh, mys):
    # given a Hong Kong seller's order into Hangzhou
    order = place_order(hkg, handbag, hgh.hub)
    urls = [
        f"/listings/{handbag.public_id}/",
        f"/listings/{handbag.public_id}/edit/",
        f"/quotes/{order.quote.public_id}/",
        f"/orders/{order.public_id}/",
    ]
    posts = [f"/listings/{handbag.public_id}/archive/", f"/orders/{order.public_id}/cancel/"]

    # when a seller of another company, or an officer of a hub the order never touches, asks for them
    for membership in (mys.seller_admin, mys.officer):
        client.force_login(membership.user)
        # then they do not exist
        for url in urls:
            assert client.get(url).status_code == 404, url
        for url in posts:
            assert client.post(url).status_code == 404, url
        assert handbag.public_id not in client.get("/listings/").content.decode()
        assert order.public_id not in client.get("/orders/").content.decode()

    assert Listing.objects.get(pk=handbag.pk).status == ListingStatus.ACTIVE
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


def test_an_officer_of_the_destination_sees_the_order_but_cannot_cancel_it(client, handbag, hkg, hgh):
    order = place_order(hkg, handbag, hgh.hub)
    client.force_login(hgh.officer.user)

    page = client.get(f"/orders/{order.public_id}/").content.decode()
    assert order.public_id in page
    assert "Cancel order" not in page
    assert client.post(f"/orders/{order.public_id}/cancel/").status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


# --- listings -------------------------------------------------------------------------------------------


def test_a_seller_creates_edits_and_archives_a_listing(seller, hkg):
    # when a seller creates a listing
    response = seller.post("/listings/new/", LISTING_FORM)

    # then it is listed at its home hub, in its company's home currency, with the HS code normalized
    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/listings/{listing.public_id}/"
    assert (listing.company, listing.hub, listing.hs_code) == (hkg.company, hkg.hub, "420221")
    assert listing.unit_price == Money("500.00", "CNY")
    assert listing.status == ListingStatus.ACTIVE
    page = seller.get(response["Location"]).content.decode()
    assert "Woven rattan handbag" in page
    assert "HGH" in page
    assert "MYS" in page
    assert "YIW" in page

    # when it is edited
    edited = {**LISTING_FORM, "hs_code": "420221", "unit_price": "480", "description": "Hand-woven."}
    response = seller.post(f"/listings/{listing.public_id}/edit/", edited)

    # then only what changed is written, and recorded
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.unit_price, listing.stock) == (Money("480.00", "CNY"), 10)
    update = AuditEvent.objects.get(verb="listing.updated")
    assert update.data == {"fields": ["description", "unit_price"]}

    # when archiving is asked for, then the page asks to confirm, and archives nothing yet
    page = seller.get(f"/listings/{listing.public_id}/archive/").content.decode()
    assert "Are you sure?" in page
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.ACTIVE

    # when it is confirmed
    response = seller.post(
        f"/listings/{listing.public_id}/archive/", {"reason": "Sold out for the season"}, follow=True
    )

    # then it is off sale for good and the page offers no edit
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ARCHIVED
    page = response.content.decode()
    assert "is archived" in page
    assert f"/listings/{listing.public_id}/edit/" not in page
    assert AuditEvent.objects.get(verb="listing.archived").reason == "Sold out for the season"


def test_the_listing_form_names_the_home_currency(seller):
    page = seller.get("/listings/new/").content.decode()
    assert "Unit price (CNY)" in page


def test_a_bad_hs_code_is_a_form_error_and_writes_nothing(seller):
    response = seller.post("/listings/new/", {**LISTING_FORM, "hs_code": "999999"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"hs_code": ["999999 is not a subheading of the Harmonized System 2022."]}
    assert not Listing.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="listing.").exists()


def test_a_bad_hs_code_on_edit_changes_nothing(seller, handbag):
    response = seller.post(f"/listings/{handbag.public_id}/edit/", {**LISTING_FORM, "hs_code": "42x", "stock": 3})

    assert response.status_code == 200
    assert "is not an HS code" in response.context["form"].errors["hs_code"][0]
    handbag.refresh_from_db()
    assert (handbag.hs_code, handbag.stock) == ("420221", 10)


def test_a_seller_of_two_companies_chooses_the_company(client, yiw, hgh, rules):
    MembershipFactory(user=yiw.seller_admin.user, company=hgh.company, role=Role.SELLER_STAFF)
    client.force_login(yiw.seller_admin.user)

    response = client.post("/listings/new/", LISTING_FORM)
    assert response.context["form"].errors == {"company": ["This field is required."]}

    response = client.post("/listings/new/", {**LISTING_FORM, "company": hgh.company.pk})
    assert response.status_code == 302
    assert Listing.objects.get().company == hgh.company


def test_the_listings_page_shows_sellability_and_reasons(seller, hkg):
    for hs_code, title in [("420221", "Handbag"), ("930200", "Pistol"), ("240220", "Cigarettes"), ("300490", "Pills")]:
        make_listing(hkg, hs_code=hs_code, title=title)

    page = seller.get("/listings/").content.decode()

    assert 'class="verdict verdict-quotable"' in page
    # allowed into Malaysia, but a CNY price cannot be quoted in MYR without a reference rate
    assert 'class="verdict verdict-allowed not-quotable" title="No reference rate for CNY → MYR' in page
    assert "not quotable" in page
    assert "prohibited" in page
    assert 'title="Revolvers and pistols: prohibited."' in page
    assert "not on the positive list" in page
    assert "Cigarettes: not on the CBEC positive list." in page
    assert "permit required" in page
    assert "Medicaments: an import permit is required." in page


def test_listings_are_searched_and_filtered(seller, hkg):
    bag = make_listing(hkg, title="Rattan handbag")
    tea = make_listing(hkg, hs_code="090210", title="Green tea", status=ListingStatus.DRAFT)

    page = seller.get("/listings/", {"q": "0902"}).content.decode()
    assert tea.public_id in page
    assert bag.public_id not in page

    page = seller.get("/listings/", {"q": bag.public_id.lower()}).content.decode()
    assert bag.public_id in page
    assert tea.public_id not in page

    page = seller.get("/listings/", {"status": "draft"}).content.decode()
    assert tea.public_id in page
    assert bag.public_id not in page


def test_the_listings_page_does_not_grow_queries_with_listings(seller, hkg, ecb_rates, django_assert_max_num_queries):
    make_listing(hkg)
    with CaptureQueriesContext(connection) as one:
        assert seller.get("/listings/").status_code == 200
    for i in range(20):
        make_listing(hkg, title=f"Handbag {i}")

    with django_assert_max_num_queries(len(one)):
        page = seller.get("/listings/").content.decode()

    assert page.count('class="verdict verdict-quotable"') == 21 * 3  # into HGH, into YIW, and into MYS at a rate


def test_the_listings_page_is_paginated(seller, hkg):
    for i in range(26):
        make_listing(hkg, title=f"Handbag {i}")

    first = seller.get("/listings/", {"status": "active"}).content.decode()
    second = seller.get("/listings/", {"status": "active", "page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert "?status=active&amp;page=2" in first
    assert second.count("Handbag ") == 1


# --- quotes ---------------------------------------------------------------------------------------------


def test_the_calculator_quotes_cbec_figures_for_a_listing(seller, handbag):
    # when a Hong Kong seller quotes its CNY handbag into Hangzhou for a consumer
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id}]))

    # then the quote binds CBEC retail figures: 0% duty, VAT 500 × 13% × 0.7
    quote = Quote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/quotes/{quote.public_id}/"
    assert quote.duties_and_taxes == Money("45.50", "CNY")
    page = seller.get(response["Location"]).content.decode()
    assert "CBEC retail import" in page
    assert "HGH version 3" in page
    assert "Import VAT" in page
    assert "13%" in page
    assert "CN¥45.50" in page
    assert "× 13% × 0.7 = 45.50" in page
    assert "CN¥545.50" in page
    assert "**************1234" in page
    assert CONSUMER not in page
    assert "Place the order" in page
    # and, priced in the quote's currency, nothing is converted
    assert "Currency conversion" not in page
    # and the seller's side says what it cannot tell: Hong Kong has no export rules on the platform
    assert "HKG has no export rules in force." in page


def test_the_calculator_shows_the_seller_its_export_side_and_the_conversion(client, yiw, mys, rules, ecb_rates):
    # given a Yiwu seller's CNY 500 handbag, and the ECB rates of 2026-10-30 (CNY 1,000.00 is MYR 641.03)
    handbag = make_listing(yiw)
    client.force_login(yiw.seller_admin.user)

    # when it is quoted into Malaysia
    form = quote_form([{"listing": handbag.public_id}], origin="YIW", destination="MYS", consumer="")
    response = client.post("/quotes/new/", form)

    # then the buyer's figures are in MYR, and the page says at which rate of which day
    quote = Quote.objects.get()
    assert response["Location"] == f"/quotes/{quote.public_id}/"
    assert quote.goods == Money("320.51", "MYR")
    page = client.get(response["Location"]).content.decode()
    assert "Currency conversion" in page
    assert "CNY 500.00 × 0.64102564 (ECB 2026-10-30, via EUR) = MYR 320.51" in page
    # and shows the seller its side in CNY: a handbag (4202) exported from Yiwu, 500 / 1.13 × 13%
    assert "CBEC export, VAT refunded where due" in page
    assert "CN¥57.52" in page
    assert quote.export_refund == Money("57.52", "CNY")


def test_the_calculator_names_the_destination_currency(seller, handbag):
    page = seller.get("/quotes/new/").content.decode()
    assert "a listing priced in another is converted at the reference rate of the day (HGH CNY, HKG HKD, " in page
    assert "In the destination hub's currency (HGH CNY, HKG HKD, MYS MYR, YIW CNY); empty for none." in page


def test_the_calculator_shows_a_refusal_on_its_field_or_line(seller, handbag):
    # a CBEC quote without the consumer
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id}], consumer=""))
    assert "give the consumer&#x27;s ID number" in str(response.context["form"].errors["consumer_id"])

    # an ad-hoc line with an HS code that does not exist, after a good one
    lines = [{"hs_code": "420221", "unit_price": "500"}, {"hs_code": "999999", "unit_price": "10"}]
    response = seller.post("/quotes/new/", quote_form(lines))
    formset = response.context["formset"]
    assert formset.forms[0].errors == {}
    assert formset.forms[1].errors == {"hs_code": ["999999 is not a subheading of the Harmonized System 2022."]}

    # prohibited goods refuse their line
    response = seller.post("/quotes/new/", quote_form([{"hs_code": "930200", "unit_price": "900"}]))
    assert "cannot be sold into HGH: prohibited" in str(response.context["formset"].forms[0].non_field_errors())

    # a route that stays in one country refuses the destination
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id}], destination="HKG"))
    assert "quote into a hub of another country" in str(response.context["form"].errors["destination_hub"])

    # a listing whose price has no reference rate into the destination's currency refuses its listing
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id}], destination="MYS", consumer=""))
    assert "No reference rate for CNY → MYR" in str(response.context["formset"].forms[0].errors["listing"])

    # a line that is both a listing and ad-hoc goods, and a basket with no line
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id, "hs_code": "420221"}]))
    assert "takes its HS code and price from the listing" in str(response.context["formset"].forms[0].errors)
    response = seller.post("/quotes/new/", quote_form([]))
    assert "Choose a listing, or give an HS code and a unit price." in str(response.context["formset"].forms[0].errors)

    assert not Quote.objects.exists()


def test_an_adhoc_quote_is_an_estimate_without_an_order_form(seller, handbag):
    response = seller.post(
        "/quotes/new/",
        quote_form([{"hs_code": "150920", "description": "Olive oil", "unit_price": "120"}]),
        follow=True,
    )

    page = response.content.decode()
    assert "Olive oil" in page
    assert "it is an estimate" in page
    assert "Place the order" not in page


# --- orders ---------------------------------------------------------------------------------------------


def test_an_order_placed_from_the_quote_page_and_cancelled_restores_stock(seller, handbag, hkg):
    # given a quote of two handbags
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id, "quantity": "2"}]))
    quote_url = response["Location"]

    # when the seller places the order for the quoted consumer
    response = seller.post(quote_url, BUYER_FORM)

    # then the order is placed, its units reserved, and its page shows the buyer masked and the timeline
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.public_id}/"
    assert Listing.objects.get(pk=handbag.pk).stock == 8
    page = seller.get(response["Location"]).content.decode()
    assert "Li Wei" in page
    assert "**************1234" in page
    assert CONSUMER not in page
    assert f"Placed by {hkg.seller_admin.user} for {hkg.company.legal_name}" in page
    assert "CN¥91.00" in page  # the duties and taxes of two handbags
    assert f'Ordered as <a href="/orders/{order.public_id}/">' in seller.get(quote_url).content.decode()

    # when the seller asks to cancel it, then the page asks to confirm, with a reason, and cancels nothing yet
    page = seller.get(f"/orders/{order.public_id}/")
    assert f'href="/orders/{order.public_id}/cancel/"' in page.content.decode()
    confirm = seller.get(f"/orders/{order.public_id}/cancel/")
    assert "Are you sure?" in confirm.content.decode()
    assert "reason" in confirm.context["form"].fields
    response = seller.post(f"/orders/{order.public_id}/cancel/", {"reason": ""})
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED

    # when the seller confirms, with the reason
    response = seller.post(f"/orders/{order.public_id}/cancel/", {"reason": "Buyer changed their mind"}, follow=True)

    # then its units are back on stock and the timeline says why
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert Listing.objects.get(pk=handbag.pk).stock == 10
    page = response.content.decode()
    assert f"Cancelled by {hkg.seller_admin.user}: Buyer changed their mind" in page
    assert "Cancel order" not in page

    # and a second cancel is refused, stock untouched
    assert "can no longer be cancelled" in seller.get(f"/orders/{order.public_id}/cancel/").content.decode()
    response = seller.post(f"/orders/{order.public_id}/cancel/", {"reason": "again"}, follow=True)
    assert f"{order.public_id} is already cancelled." in response.content.decode()
    assert Listing.objects.get(pk=handbag.pk).stock == 10


def test_the_buyer_must_be_the_quoted_consumer(seller, handbag, hkg, hgh):
    quote = place_quote(hkg, handbag, hgh.hub)

    response = seller.post(f"/quotes/{quote.public_id}/", {**BUYER_FORM, "id_number": "110101199003070000"})

    assert "this buyer is another person" in response.context["form"].errors["id_number"][0]
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=handbag.pk).stock == 10


def test_a_business_buyer_needs_its_registration_and_a_cbec_quote_a_consumer(seller, handbag, hkg, hgh):
    quote = place_quote(hkg, handbag, hgh.hub)
    business = {**BUYER_FORM, "kind": "business", "id_number": "", "name": "Hangzhou Retail Ltd."}

    response = seller.post(f"/quotes/{quote.public_id}/", business)
    needs = "A business buyer needs its registration number."
    assert response.context["form"].errors == {"registration_number": [needs]}

    response = seller.post(f"/quotes/{quote.public_id}/", {**business, "registration_number": "91330100X"})
    assert "the buyer is that consumer" in response.context["form"].errors["kind"][0]
    assert not Order.objects.exists()


def test_the_orders_list_filters_by_status(seller, handbag, hkg, hgh):
    placed = place_order(hkg, handbag, hgh.hub)
    cancelled = place_order(hkg, handbag, hgh.hub)
    cancelled.status = OrderStatus.CANCELLED
    cancelled.save(update_fields=["status"])

    page = seller.get("/orders/").content.decode()
    assert placed.public_id in page
    assert cancelled.public_id in page

    page = seller.get("/orders/", {"status": "cancelled"}).content.decode()
    assert cancelled.public_id in page
    assert placed.public_id not in page

    page = seller.get("/orders/", {"status": "placed", "destination_hub": "HGH", "buyer": "li"}).content.decode()
    assert placed.public_id in page
    assert cancelled.public_id not in page

    page = seller.get("/orders/", {"origin_hub": "MYS"}).content.decode()
    assert placed.public_id not in page
    assert "No orders match these filters" in page

    response = seller.get("/orders/", {"status": "lost"})
    assert "Select a valid choice" in response.content.decode()


def test_an_expired_quote_offers_no_order_form(seller, handbag, hkg, hgh):
    quote = place_quote(hkg, handbag, hgh.hub)
    Quote.objects.filter(pk=quote.pk).update(expires_at=quote.created_at)

    page = seller.get(f"/quotes/{quote.public_id}/").content.decode()

    assert "This quote has expired" in page
    assert "Place the order" not in page
    assert Decimal("45.50") == Quote.objects.get().duties_and_taxes.amount


def test_an_officer_gets_no_confirmation_page_to_cancel_or_archive(client, handbag, hkg, hgh):
    order = place_order(hkg, handbag, hgh.hub)
    client.force_login(hgh.officer.user)

    assert client.get(f"/orders/{order.public_id}/cancel/").status_code == 403
    assert client.post(f"/orders/{order.public_id}/cancel/", {"reason": "x"}).status_code == 403
    client.force_login(hkg.officer.user)
    assert client.get(f"/listings/{handbag.public_id}/archive/").status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


# --- what a seller expects ------------------------------------------------------------------------------


def test_an_unverified_company_lists_and_quotes_and_orders_once_its_hub_verifies_it(seller, handbag, hkg):
    # given a company its hub has not verified yet
    Company.objects.filter(pk=hkg.company.pk).update(verified=False)

    # then its home page says what waits for the verification, and who verifies
    home = seller.get("/").content.decode()
    assert f"Awaiting verification by {hkg.hub.code}" in home
    assert "You can list goods and quote them now. Placing orders waits until a supervisor of" in home

    # when it lists goods and quotes them, then both are made
    assert seller.post("/listings/new/", LISTING_FORM).status_code == 302
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id}]))
    assert response.status_code == 302

    # and the quote's page offers no order, saying why
    page = seller.get(response["Location"]).content.decode()
    assert "Place the order" not in page
    assert "is awaiting verification by HKG: it can list goods and quote them" in page
    response = seller.post(response["Location"], BUYER_FORM)
    assert "awaiting verification" in response.context["form"].non_field_errors()[0]
    assert not Order.objects.exists()

    # when a supervisor of its hub verifies it, then the same quote is ordered
    company_verify(actor=actor_for(hkg.supervisor.user), company=hkg.company)
    quote = Quote.objects.get()
    assert "Place the order" in seller.get(f"/quotes/{quote.public_id}/").content.decode()
    assert seller.post(f"/quotes/{quote.public_id}/", BUYER_FORM).status_code == 302
    assert Order.objects.count() == 1
    assert f"Verified by {hkg.hub.code}" in seller.get("/").content.decode()


@pytest.mark.parametrize("quantity", ["11", "99999"])
def test_a_quote_for_more_than_in_stock_says_so_and_offers_no_order(seller, handbag, quantity):
    # given 10 handbags in stock at CNY 500: 11 or 99,999 of them are over the CBEC order limit
    response = seller.post("/quotes/new/", quote_form([{"listing": handbag.public_id, "quantity": quantity}]))

    # then either is quoted alike, as general trade, and the page says the stock is short and offers no order
    assert response.status_code == 302
    page = seller.get(response["Location"]).content.decode()
    assert "General trade import" in page
    assert "General trade: this order of " in page
    assert "; taxed in full" in page
    assert f"this quote asks for {quantity}, and only 10 are in stock." in page
    assert "Place the order" not in page

    # and a forged order is refused, writing nothing
    response = seller.post(response["Location"], BUYER_FORM)
    assert f"{handbag.public_id} has 10 in stock: this order needs {quantity}." in str(response.context["form"].errors)
    assert not Order.objects.exists()


def test_a_quote_whose_units_orders_took_since_offers_no_order(seller, handbag, hkg, hgh):
    quote = place_quote(hkg, handbag, hgh.hub, quantity=6)
    place_order(hkg, handbag, hgh.hub, quantity=5)

    page = seller.get(f"/quotes/{quote.public_id}/").content.decode()

    assert "this quote asks for 6, and only 5 are in stock." in page
    assert "Place the order" not in page


def test_the_buyer_lives_in_the_destination_hubs_country(seller, handbag, hkg, hgh):
    quote = place_quote(hkg, handbag, hgh.hub)
    form = seller.get(f"/quotes/{quote.public_id}/").context["form"]
    assert form["country"].value() == "CN"

    response = seller.post(f"/quotes/{quote.public_id}/", {**BUYER_FORM, "country": "MY"})

    errors = response.context["form"].errors
    assert errors == {"country": ["The goods clear import at HGH, in China: give the buyer's address in China."]}
    assert not Order.objects.exists()


def test_the_quote_history_lists_the_companys_quotes_and_what_became_of_them(seller, handbag, hkg, hgh):
    binding = place_quote(hkg, handbag, hgh.hub)
    expired = place_quote(hkg, handbag, hgh.hub)
    Quote.objects.filter(pk=expired.pk).update(expires_at=expired.created_at)
    ordered = place_order(hkg, handbag, hgh.hub)

    page = seller.get("/quotes/").content.decode()

    assert f'<a href="/quotes/{binding.public_id}/">{binding.public_id}</a>' in page
    assert "Binds until" in page
    assert "Expired" in page
    assert f'Ordered as <a href="/orders/{ordered.public_id}/">{ordered.public_id}</a>' in page
    assert 'href="/quotes/"' in page  # in the navigation


def test_quote_this_listing_opens_the_calculator_with_it(seller, handbag, hkg):
    page = seller.get(f"/listings/{handbag.public_id}/").content.decode()
    assert f'href="/quotes/new/?listing={handbag.public_id}">Quote this listing</a>' in page

    response = seller.get("/quotes/new/", {"listing": handbag.public_id})

    assert response.context["form"]["origin_hub"].value() == "HKG"
    assert response.context["formset"].forms[0]["listing"].value() == handbag.public_id
    assert f'<option value="{handbag.public_id}" selected>' in response.content.decode()


def test_messages_read_as_sentences(seller):
    response = seller.post("/listings/new/", {**LISTING_FORM, "unit_price": "0"})
    assert response.context["form"].errors == {"unit_price": ["Give a unit price above zero."]}


def test_the_portal_has_a_favicon_and_no_inline_script_or_style(seller):
    page = seller.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert (settings.BASE_DIR / "static" / "favicon.svg").read_text().startswith("<svg")

    # The Content-Security-Policy allows scripts and styles from the portal's own files only
    portal = settings.BASE_DIR / "templates"
    templates = [
        *portal.glob("*.html"),
        *(t for folder in ("hubs", "trade", "registration") for t in (portal / folder).rglob("*.html")),
    ]
    assert len(templates) > 20
    for template in templates:
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", text), template


def test_labels_say_cbec_and_lvg_and_rates_show_as_percentages(client, yiw, mys, rules, ecb_rates):
    # given a Yiwu seller's CNY 500 handbag quoted into Malaysia: MYR 320.51, low-value goods
    handbag = make_listing(yiw)
    client.force_login(yiw.seller_admin.user)
    form = quote_form([{"listing": handbag.public_id}], origin="YIW", destination="MYS", consumer="")
    page = client.get(client.post("/quotes/new/", form)["Location"]).content.decode()

    assert "Low-value goods (LVG)" in page
    assert "<td>Low-value goods (LVG) tax</td><td>10%</td>" in page
    assert "0.1000" not in page
    assert "CBEC retail import. Kept only masked" in client.get("/quotes/new/").content.decode()
