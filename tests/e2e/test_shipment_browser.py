"""A Hong Kong seller follows its shipment in the portal on a phone: its tracking, its parcels' shares of the
consignment's cost, and its label downloaded as a PDF holding the waybill."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from logistics.models import Consignment, Shipment
from logistics.services import consignment_book, departure_close
from tests.e2e.test_login import log_in
from tests.e2e.test_portal_mobile import WIDTH, Walk, phone  # noqa: F401 (fixture)
from tests.logistics.conftest import (  # noqa: F401 (fixtures)
    departure,
    hgh,
    hkg,
    mys,
    place_order,
    receive,
    reference_units,
    released_order,
    rules,
    yiw,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_seller_follows_its_shipment_and_downloads_its_label(phone, reference_units, released_order, departure, hkg):  # noqa: F811
    # given an order's parcel received, packed at its departure's cut-off and booked with the carrier
    order = released_order()
    receive(hkg, order)
    departure_close(departure=departure(units=1))
    consignment_book(consignment=Consignment.objects.get())
    shipment = Shipment.objects.get(order=order)
    walk = Walk(phone)

    # when the seller opens Shipments, then its shipment
    log_in(phone, "/login/", hkg.seller_admin.user.username)
    phone.get_by_role("link", name="Shipments").click()
    walk.check()
    phone.get_by_role("link", name=shipment.public_id).click()
    walk.check()

    # then it sees the waybill and its parcel's share of the consignment's cost
    expect(phone.get_by_text(shipment.waybill)).to_be_visible()
    expect(phone.locator("td", has_text="1,200.00")).to_be_visible()  # one parcel: the whole LD3's cost

    # and downloads its label, a PDF holding the waybill
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download the label").click()
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(open(download.value.path(), "rb").read())).pages
    )
    assert shipment.waybill in text
    assert not walk.too_wide, f"pages wider than {WIDTH}px: {walk.too_wide}"
