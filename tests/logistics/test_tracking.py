"""Shipments and tracking: an order's shipment made with its first parcel (who sends and receives, as they were),
given its waybill when its consignment is booked; the carrier's tracking events, signed, applied once, moving the
shipment along its states; a forged, stale, replayed or unknown one changes nothing."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from logistics.models import Consignment, Shipment, ShipmentStatus, SimulatedCarrierBooking, TrackingEvent
from logistics.services import consignment_book, departure_close, shipment_track
from logistics.tasks import shipments_track_task
from tests.logistics.conftest import receive
from tests.tenants import session_client
from tests.webhooks import post_signed


def track(client, event, secret=None, at=None):
    secret = secret or settings.CARRIER_WEBHOOK_SECRETS[0]
    return post_signed(client, "/api/v1/logistics/webhook/", "Carrier-Signature", secret, event, at)


@pytest.fixture
def booked(released_order, departure, hkg):
    """An order's two parcels received, their departure closed and its consignment booked: the shipment's."""
    order = released_order()
    for _ in range(2):
        receive(hkg, order)
    flight = departure(units=1)
    departure_close(departure=flight)
    consignment_book(consignment=Consignment.objects.get(departure=flight))
    return Shipment.objects.get(order=order)


def test_a_shipment_keeps_its_parties_and_gets_its_waybill_when_booked(booked):
    order = booked.order
    assert booked.sender["name"] == order.company.legal_name
    assert booked.receiver["name"] == order.buyer.name
    assert booked.status == ShipmentStatus.BOOKED
    assert booked.carrier == "simulated"
    assert booked.waybill.startswith("999-")
    consignment = Consignment.objects.get()
    assert consignment.booking["request"]["shipments"][0]["reference"] == booked.public_id
    assert booked.waybill != consignment.waybill  # a house waybill under the consignment's master
    assert booked.booking["request"]["receiver"]["name"] == order.buyer.name  # what was sent, frozen on it
    assert booked.booking["response"]["shipments"][booked.public_id] == booked.waybill


def test_tracking_events_move_the_shipment_once_each_and_out_of_order_ones_stay_on_the_timeline(booked, client):
    at = timezone.now()
    event = {
        "id": "trk-1",
        "waybill": booked.waybill,
        "status": "in_transit",
        "occurred_at": at.isoformat(),
        "place": "HKG",
    }
    assert track(client, event).json() == {"applied": True, "shipment": booked.public_id, "status": "in_transit"}
    assert track(client, event).json()["applied"] is False  # the same event again
    delivered = {**event, "id": "trk-2", "status": "delivered", "occurred_at": (at + timedelta(days=2)).isoformat()}
    assert track(client, delivered).json()["status"] == "delivered"
    late = {**event, "id": "trk-3", "place": "HGH"}  # a scan that arrives after the delivery
    assert track(client, late).json()["status"] == "delivered"
    assert list(booked.tracking.values_list("carrier_event_id", flat=True)) == ["trk-1", "trk-3", "trk-2"]

    timeline = session_client(booked.order.company.memberships.first()).get(f"/api/v1/shipments/{booked.public_id}/")
    assert [row["status"] for row in timeline.json()["tracking"]] == ["in_transit", "in_transit", "delivered"]


@pytest.mark.parametrize(
    ("change", "how", "code"),
    [
        ({}, {"secret": "not-the-carriers"}, "bad_signature"),
        ({}, {"at": int(time.time()) - 3600}, "stale_signature"),
        ({"waybill": "999-00000000"}, {}, "unknown_waybill"),
        ({"occurred_at": "yesterday"}, {}, "invalid"),
        ({"status": "teleported"}, {}, "invalid_choice"),
    ],
)
def test_a_forged_stale_unknown_or_bad_event_changes_nothing(booked, client, change, how, code):
    event = {
        "id": "trk-1",
        "waybill": booked.waybill,
        "status": "in_transit",
        "occurred_at": timezone.now().isoformat(),
    }
    response = track(client, {**event, **change}, **how)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert not TrackingEvent.objects.exists()
    booked.refresh_from_db()
    assert booked.status == ShipmentStatus.BOOKED
    assert track(client, event).json()["applied"] is True  # a refused event's id was not spent


def test_the_tracker_polls_the_carrier_and_applies_each_event_once_with_the_webhooks(booked, client):
    # the simulated carrier reports departure an hour after booking and delivery two days after
    hour_later = timezone.now() - timedelta(hours=2)
    SimulatedCarrierBooking.objects.filter(waybill=booked.waybill).update(created_at=hour_later)
    assert track(
        client,
        {
            "id": f"{booked.waybill}/1",
            "waybill": booked.waybill,
            "status": "in_transit",
            "occurred_at": hour_later.isoformat(),
        },
    ).json()["applied"]
    shipments_track_task()  # the departure came by webhook already: not applied again
    booked.refresh_from_db()
    assert (booked.status, booked.tracking.count()) == (ShipmentStatus.IN_TRANSIT, 1)

    SimulatedCarrierBooking.objects.filter(waybill=booked.waybill).update(created_at=timezone.now() - timedelta(days=3))
    shipments_track_task()
    shipments_track_task()
    booked.refresh_from_db()
    assert booked.status == ShipmentStatus.DELIVERED
    assert sorted(booked.tracking.values_list("status", "place")) == [("delivered", "HGH"), ("in_transit", "")]
    with override_settings(SIMULATED_CARRIER={"timeout_rate": 1}):
        assert shipment_track(shipment=booked) == 0  # a carrier that does not answer is asked next time
