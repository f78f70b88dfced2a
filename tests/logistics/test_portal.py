"""The portal's shipments: a seller lists its own and opens one, its parcels' shares shown; before the waybill
its documents are refused with the reason; another seller sees none of them."""

from decimal import Decimal

from logistics.models import Shipment
from tests.logistics.conftest import receive
from tests.tenants import session_client


def test_a_seller_reads_its_shipments_and_is_told_why_a_label_is_not_ready(released_order, hkg, mys):
    order = released_order()
    parcel = receive(hkg, order, weight_kg=Decimal(2))
    shipment = Shipment.objects.get(order=order)
    seller = session_client(hkg.seller_admin)
    assert shipment.public_id in seller.get("/shipments/").content.decode()
    detail = seller.get(f"/shipments/{shipment.public_id}/").content.decode()
    assert parcel.public_id in detail
    assert "waiting for a departure" in detail
    early = seller.get(f"/shipments/{shipment.public_id}/label.pdf")
    assert early.status_code == 409
    assert "no waybill yet" in early.content.decode()
    assert shipment.public_id not in session_client(mys.seller_admin).get("/shipments/").content.decode()
