"""A shipment's label and packing list: real PDFs whose text, parsed back, holds the waybill and both parties in
Chinese and Malay; rendered once and stored with their checksum; downloaded by the seller and both hubs' officers,
by nobody else, and not before the carrier gave the waybill."""

import base64
import hashlib
import os

import pytest

from logistics.models import Consignment, Shipment, ShipmentDocument
from logistics.services import consignment_book, departure_close
from tests.logistics.conftest import receive
from tests.pdfs import cjk_font_installed, text_of
from tests.tenants import session_client

SELLER = "香港藤器有限公司 Hong Kong Rattan Co."
BUYER = "李伟 Encik Ahmad bin Abdullah"


@pytest.fixture
def shipment(released_order, departure, hkg):
    order = released_order()
    hkg.company.legal_name = SELLER
    hkg.company.save(update_fields=["legal_name"])
    order.buyer.name = BUYER
    order.buyer.address_line1 = "杭州市文三路1号 Jalan Ampang"
    order.buyer.save(update_fields=["name", "address_line1"])
    for _ in range(2):
        receive(hkg, order)
    return Shipment.objects.get(order=order)


def booked(shipment, departure):
    departure_close(departure=departure(units=1))
    consignment_book(consignment=Consignment.objects.get())
    shipment.refresh_from_db()
    return shipment


def test_the_label_and_packing_list_are_pdfs_with_the_waybill_and_both_parties(shipment, departure, hkg, hgh):
    if not cjk_font_installed() and not os.environ.get("CI"):  # CI installs it: there, a missing font fails
        pytest.skip("Chinese renders as boxes without a CJK font: apt-get install fonts-noto-cjk")
    shipment = booked(shipment, departure)
    seller = session_client(hkg.seller_admin)
    label = seller.get(f"/api/v1/shipments/{shipment.public_id}/label/")
    assert label.status_code == 200
    assert label["Content-Type"] == "application/pdf"
    text = text_of(label.content)
    assert shipment.waybill in text
    assert "香港藤器有限公司" in text  # Chinese as text, not boxes
    assert "李伟 Encik Ahmad bin Abdullah" in text
    assert "杭州市文三路1号" in text

    packing = session_client(hgh.officer).get(f"/api/v1/shipments/{shipment.public_id}/packing-list/")
    text = text_of(packing.content)
    assert shipment.waybill in text
    assert SELLER in text
    assert BUYER in text
    for parcel in shipment.order.parcels.all():
        assert parcel.public_id in text


def test_a_document_is_rendered_once_and_served_with_its_checksum(shipment, departure, hkg):
    shipment = booked(shipment, departure)
    client = session_client(hkg.seller_admin)
    first = client.get(f"/api/v1/shipments/{shipment.public_id}/label/")
    again = session_client(hkg.officer).get(f"/api/v1/shipments/{shipment.public_id}/label/")
    assert first.content == again.content
    stored = ShipmentDocument.objects.get()
    assert stored.sha256 == hashlib.sha256(first.content).hexdigest()
    assert first["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(first.content).digest()).decode()}:"


def test_no_document_before_the_waybill_and_none_for_outsiders(shipment, departure, hkg, mys):
    seller = session_client(hkg.seller_admin)
    refused = seller.get(f"/api/v1/shipments/{shipment.public_id}/label/")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "not_booked"
    shipment = booked(shipment, departure)
    assert session_client(mys.officer).get(f"/api/v1/shipments/{shipment.public_id}/label/").status_code == 404
    assert not ShipmentDocument.objects.exists()
