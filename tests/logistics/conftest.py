from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from customs.models import Direction
from customs.services import declaration_file
from hubs.scoping import actor_for
from logistics.models import Departure, ModeRule, UnitType
from logistics.reference_units import load_reference_units
from logistics.services import parcel_receive
from payments.services import payment_start
from tests.payments.conftest import committed, place_order  # noqa: F401 (fixtures)
from tests.trade.conftest import hgh, hkg, mys, rules, yiw  # noqa: F401 (fixtures)

# The reference facts' carton (§2.1): 30 × 45 × 65 cm and 14 kg, charged at 15 kg by air.
CARTON = {"weight_kg": Decimal(14), "length_cm": Decimal(30), "width_cm": Decimal(45), "height_cm": Decimal(65)}


def receive(tenant, order, **measures):
    """A parcel of `order` received by `tenant`'s officer at its origin hub: the carton, unless told otherwise."""
    return parcel_receive(actor=actor_for(tenant.officer.user), order=order, **{**CARTON, **measures})


@pytest.fixture
def released_order(place_order, hkg):  # noqa: F811 (fixtures)
    """Orders from Hong Kong into Hangzhou, paid and released at export: their parcels ride."""

    def make(released=True):
        order = place_order()
        payment_start(actor=actor_for(hkg.seller_admin.user), order=order, method="sim_ok")
        if released:  # the journey's step (a worker may have taken it first: then it is done already)
            declaration_file(order=order, direction=Direction.EXPORT)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def reference_units(transactional_db):
    """The modes and units a migration loads, put back for the tests that commit for real (a worker): a
    transactional test empties every table when it ends."""
    load_reference_units(ModeRule, UnitType)


@pytest.fixture
def departure(hkg, hgh):  # noqa: F811 (fixtures)
    """LD3s from Hong Kong to Hangzhou at USD 1,200 each, their cut-off now unless told."""

    def make(units=2, cut_off_at=None, unit="LD3"):
        cut_off_at = cut_off_at or timezone.now()
        return Departure.objects.create(
            origin_hub=hkg.hub,
            destination_hub=hgh.hub,
            unit_type=UnitType.objects.get(code=unit),
            units=units,
            unit_cost=Money(Decimal("1200.00"), "USD"),
            cut_off_at=cut_off_at,
            departs_at=cut_off_at + timedelta(hours=6),
        )

    return make
