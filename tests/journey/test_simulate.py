"""`manage.py simulate` drives demo orders through the whole journey on every demo hub pair and every lane, the
officers deciding and the sellers answering holds, and the books reconcile afterwards."""

import io

import pytest
from django.core.management import CommandError, call_command

from customs.models import Declaration, DeclarationDocument, Direction, Lane, RefundClaim
from logistics.models import Consignment, SimulatedCarrierBooking
from payments.models import SimulatedRailTransfer, Tranche, TrancheStatus
from payments.reconciliation import reconcile
from trade.models import Order, OrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_simulate_drives_every_order_to_the_end_once(demo):
    out = io.StringIO()
    call_command("simulate", "--orders", "10", "--eager", stdout=out, stderr=io.StringIO())
    report = out.getvalue()
    assert "10 of 10 orders final" in report
    for row in ("HGH→MYS", "MYS→HGH", "MYS→YIW", "YIW→LOS", "YIW→MYS", "lane red", "lane yellow", "lane green"):
        assert row in report, report

    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.DELIVERED}
    imports = Declaration.objects.filter(direction=Direction.IMPORT)
    assert {d.lane for d in imports} == {Lane.GREEN, Lane.YELLOW, Lane.RED}
    assert DeclarationDocument.objects.exists()  # holds answered by the sellers
    assert RefundClaim.objects.filter(hub__code__in=["HGH", "YIW"]).exists()
    # each effect once: a booking per consignment, a rail transfer per settled tranche
    consignments = Consignment.objects.exclude(waybill="").values_list("public_id", flat=True)
    assert sorted(SimulatedCarrierBooking.objects.filter(key__in=consignments).values_list("key", flat=True)) == sorted(
        consignments
    )
    settled = Tranche.objects.filter(status=TrancheStatus.SETTLED)
    assert sorted(SimulatedRailTransfer.objects.values_list("key", flat=True)) == sorted(t.key for t in settled)
    assert reconcile() == []


def test_simulate_refuses_an_unknown_hub_pair(demo):
    with pytest.raises(CommandError, match="No hub XXX"):
        call_command("simulate", "--orders", "1", "--hubs", "HGH:XXX", "--eager", stdout=io.StringIO())
    with pytest.raises(CommandError, match="ORIGIN:DESTINATION"):
        call_command("simulate", "--orders", "1", "--hubs", "HGH", "--eager", stdout=io.StringIO())
