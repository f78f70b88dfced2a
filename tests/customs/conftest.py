from datetime import timedelta

import pytest
from django.utils import timezone

from customs.models import Declaration, RiskRule
from hubs.scoping import actor_for
from logistics.models import Consignment
from logistics.services import departure_close, tracking_event_record
from payments.services import payment_start
from tests.logistics.conftest import departure, receive  # noqa: F401 (fixtures)
from tests.payments.conftest import committed, place_order  # noqa: F401 (fixtures)
from tests.trade.conftest import hgh, hkg, mys, rules, yiw  # noqa: F401 (fixtures)


def pay(seller, order, **extra):
    return payment_start(actor=actor_for(seller.seller_admin.user), order=order, method="sim_ok", **extra)


def track(order, status, minutes=0):
    shipment = order.shipment
    shipment.refresh_from_db()
    return tracking_event_record(
        carrier_name=shipment.carrier,
        event_id=f"{shipment.waybill}-{status}",
        waybill=shipment.waybill,
        status=status,
        occurred_at=timezone.now() + timedelta(minutes=minutes),
    )


def declaration(order, direction):
    return Declaration.objects.get(order=order, direction=direction)


@pytest.fixture
def journey(place_order, committed, departure, hkg):  # noqa: F811 (fixtures)
    """Steps of an order's journey from Hong Kong into Hangzhou, each made by whoever makes it (the seller pays, the
    officer receives the parcel, the carrier reports), the platform's steps run as a worker would."""

    class Journey:
        @staticmethod
        def paid(**payment):
            order = place_order()
            with committed():
                pay(hkg, order, **payment)
            order.refresh_from_db()
            return order

        @staticmethod
        def shipped(order):
            receive(hkg, order)
            with committed():
                departure_close(departure=departure(cut_off_at=timezone.now()))
            assert Consignment.objects.filter(parcels__order=order).exclude(waybill="").exists()
            with committed():
                track(order, "in_transit")
            order.refresh_from_db()
            return order

        @staticmethod
        def delivered(order):
            with committed():
                track(order, "delivered", minutes=1)
            order.refresh_from_db()
            return order

    return Journey


def rule(tenant, kind, lane="yellow", **fields):
    return RiskRule.objects.create(hub=tenant.hub, kind=kind, lane=lane, **fields)
