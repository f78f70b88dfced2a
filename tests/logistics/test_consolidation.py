"""Consolidation at the hubs: parcels received with clear errors for bad measures, departures scheduled with
their cut-off, and each departure closed once at its cut-off with its parcels packed within the units' limits and
its cost shared exactly."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from djmoney.money import Money

from hubs.kernel.errors import DomainError
from hubs.models import AuditEvent
from hubs.scoping import actor_for
from logistics.models import Consignment, DepartureStatus, Parcel, UnitType
from logistics.services import departure_close, departure_schedule, parcel_receive
from logistics.tasks import departures_close_due_task
from tests.logistics.conftest import CARTON, receive
from trade.services import order_cancel


@pytest.mark.parametrize(
    ("measures", "code"),
    [
        ({"weight_kg": Decimal(0)}, "invalid_parcel"),
        ({"length_cm": None}, "invalid_parcel"),
        ({"height_cm": Decimal(-5)}, "invalid_parcel"),
        ({"width_cm": Decimal("NaN")}, "invalid_parcel"),
        ({"weight_kg": Decimal(30000)}, "parcel_too_large"),
        ({"length_cm": Decimal(2000), "width_cm": Decimal(800)}, "parcel_too_large"),
    ],
)
def test_a_parcel_with_bad_measures_is_refused_and_nothing_is_written(released_order, hkg, measures, code):
    order = released_order()
    with pytest.raises(DomainError) as refused:
        receive(hkg, order, **measures)
    assert refused.value.code == code
    assert not Parcel.objects.exists()


def test_only_the_origin_hubs_officers_receive_parcels_of_orders_on_their_way(released_order, place_order, hkg, hgh):
    order = released_order()
    with pytest.raises(PermissionDenied):
        parcel_receive(actor=actor_for(hkg.seller_admin.user), order=order, **CARTON)
    with pytest.raises(PermissionDenied):
        parcel_receive(actor=actor_for(hgh.officer.user), order=order, **CARTON)  # the destination's
    cancelled = place_order()
    order_cancel(actor=actor_for(hkg.seller_admin.user), order=cancelled, reason="changed mind")
    with pytest.raises(DomainError, match="cancelled"):
        receive(hkg, cancelled)
    assert receive(hkg, order).order == order


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"cut_off_at": timezone.now() - timedelta(hours=1)}, "cut_off_passed"),
        ({"departs_at": timezone.now() + timedelta(minutes=30)}, "invalid"),
        ({"units": 0}, "invalid"),
        ({"unit_cost": Money(0, "USD")}, "invalid"),
        ({"destination_hub": "origin"}, "unknown_route"),
    ],
)
def test_a_departure_with_a_bad_schedule_is_refused(hkg, hgh, change, code):
    fields = {
        "origin_hub": hkg.hub,
        "destination_hub": hgh.hub,
        "unit_type": UnitType.objects.get(code="LD3"),
        "units": 2,
        "unit_cost": Money(1200, "USD"),
        "cut_off_at": timezone.now() + timedelta(hours=1),
        "departs_at": timezone.now() + timedelta(hours=5),
    }
    fields.update(change)
    if fields["destination_hub"] == "origin":
        fields["destination_hub"] = hkg.hub
    with pytest.raises(DomainError) as refused:
        departure_schedule(actor=actor_for(hkg.supervisor.user), **fields)
    assert refused.value.code == code
    with pytest.raises(PermissionDenied):
        departure_schedule(actor=actor_for(hkg.officer.user), **{**fields, "destination_hub": hgh.hub})


def test_a_departure_closes_at_its_cut_off_with_the_parcels_that_made_it(released_order, departure, hkg):
    order, unreleased = released_order(), released_order(released=False)
    on_time = receive(hkg, order)
    waiting_for_customs = receive(hkg, unreleased)
    late = receive(hkg, order)
    flight = departure(cut_off_at=timezone.now() + timedelta(minutes=5))
    with pytest.raises(DomainError, match="closes at its cut-off"):
        departure_close(departure=flight)
    cut_off = timezone.now()  # the cut-off comes: one parcel came before it, one a second after
    type(flight).objects.filter(pk=flight.pk).update(cut_off_at=cut_off)
    Parcel.objects.filter(pk__in=[on_time.pk, waiting_for_customs.pk]).update(received_at=cut_off - timedelta(hours=1))
    Parcel.objects.filter(pk=late.pk).update(received_at=cut_off + timedelta(seconds=1))

    closed = departure_close(departure=flight)

    assert closed.status == DepartureStatus.CLOSED
    consignment = Consignment.objects.get(departure=flight)
    on_time.refresh_from_db()
    assert on_time.consignment == consignment
    assert on_time.chargeable_kg == Decimal(15)  # 14.625 kg volumetric by air, rounded up to 0.5 kg
    assert on_time.cost_share == Money(1200, "USD")
    for parcel in (waiting_for_customs, late):
        parcel.refresh_from_db()
        assert parcel.consignment is None  # they wait for the next departure
    # Closing again changes nothing
    departure_close(departure=flight)
    departures_close_due_task()
    assert Consignment.objects.count() == 1
    assert AuditEvent.objects.filter(verb="departure.closed").count() == 1


def test_parcels_fill_the_units_within_their_limits_share_each_cost_exactly_and_the_rest_wait(
    released_order, departure, hkg
):
    rng = random.Random(3)
    orders = [released_order() for _ in range(4)]
    for n in range(260):  # about 4 m³ and 650 kg: more than one LD3 holds by volume
        side = Decimal(rng.randint(15, 40))
        receive(
            hkg,
            orders[n % 4],
            weight_kg=Decimal(rng.randint(1, 50)) / 10,
            length_cm=side,
            width_cm=side,
            height_cm=side,
        )
    small = departure(units=1)
    departure_close(departure=small)
    consignment = Consignment.objects.get(departure=small)
    parcels = list(consignment.parcels.all())
    unit = small.unit_type
    assert sum(p.weight_kg for p in parcels) == consignment.weight_kg <= unit.max_weight_kg
    assert consignment.volume_m3 <= unit.max_volume_m3
    assert sum(p.cost_share.amount for p in parcels) == Decimal("1200.00")
    waiting = Parcel.objects.filter(consignment=None)
    assert waiting.exists()
    assert max(p.received_at for p in parcels) <= min(p.received_at for p in waiting)  # the earliest ride first

    next_one = departure(units=2)
    departure_close(departure=next_one)
    assert not Parcel.objects.filter(consignment=None).exists()  # the next departure took the rest
    for consignment in Consignment.objects.filter(departure=next_one):
        assert consignment.volume_m3 <= unit.max_volume_m3
        assert sum(p.cost_share.amount for p in consignment.parcels.all()) == Decimal("1200.00")


def test_the_closer_closes_due_departures_only(departure):
    due, later = departure(), departure(cut_off_at=timezone.now() + timedelta(hours=1))
    departures_close_due_task()
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (DepartureStatus.CLOSED, DepartureStatus.OPEN)
