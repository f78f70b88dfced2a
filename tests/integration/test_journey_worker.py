"""The whole journey through a real worker process: orders on every demo hub pair and in every lane, an officer's
decisions and holds answered by the sellers, end delivered and settled, and the books reconcile."""

import pytest

from customs.models import Declaration, DeclarationDocument, Direction, Lane
from ewtp.simulation import Simulation
from payments.reconciliation import reconcile
from tests.journey.conftest import demo, reference_units  # noqa: F401 (fixtures)
from trade.models import Order, OrderStatus

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_orders_on_every_hub_pair_and_lane_reach_the_end_through_a_worker(demo, celery_worker_process):  # noqa: F811
    simulation = Simulation(orders=10, seed=1, log=lambda line: None)
    summary = simulation.run(timeout=240, pause=0.3)
    statuses = dict(Order.objects.filter(pk__in=summary.orders).values_list("public_id", "status"))
    assert set(statuses.values()) == {OrderStatus.DELIVERED}, (statuses, celery_worker_process.read_text()[-3000:])
    lanes = {d.lane for d in Declaration.objects.filter(direction=Direction.IMPORT)}
    assert lanes == {Lane.GREEN, Lane.YELLOW, Lane.RED}
    assert DeclarationDocument.objects.exists()
    differences = reconcile()
    assert differences == [], (differences, celery_worker_process.read_text()[-3000:])
