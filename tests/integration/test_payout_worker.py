"""A payout through real worker processes, one of them killed mid-payout: after a new worker and the sweeper,
no tranche is lost or paid twice, and the books reconcile."""

import signal
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ewtp.celery import app as celery_app
from payments.models import Corridor, LedgerTransaction, SimulatedRailTransfer, Tranche, TrancheStatus
from payments.reconciliation import reconcile
from payments.tasks import tranches_due_task
from tests.integration.conftest import start_worker, stop_worker, wait_for
from tests.payments.conftest import deliver, lagos, paid_lagos_order, yiw  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TRANCHES = 40


def settled(order):
    return Tranche.objects.filter(payout__order=order, status=TrancheStatus.SETTLED).count()


def test_a_worker_killed_mid_payout_loses_and_doubles_no_tranche(hs_nomenclature, lagos, yiw, tmp_path):  # noqa: F811
    # Given a payout of 40 tranches (USD 200,000 at USD 5,000 a transfer, all due today)
    Corridor.objects.update(per_transfer_cap=Decimal("5000"), daily_cap=None)
    order = paid_lagos_order(yiw, lagos)
    celery_app.control.purge()
    # When the order is delivered (its steps made here before any worker runs, so that none races them)
    deliver(order)
    log = tmp_path / "workers.log"
    # and the reactions reach a worker (duties, release, payout, tranches) whose rail answers slowly, so that it
    # is killed with tranches still to send
    first = start_worker(log, SIMULATED_RAIL_LATENCY_SECONDS="0.25")
    second = None
    try:
        assert wait_for(lambda: settled(order) >= 3), log.read_text()[-3000:]
        first.send_signal(signal.SIGKILL)  # and its worker dies mid-payout
        first.wait()
        assert settled(order) < TRANCHES

        # Then a new worker and the sweeper (its wait for tranches left sending passed) finish the payout
        Tranche.objects.filter(status=TrancheStatus.SENDING).update(sending_since=timezone.now() - timedelta(hours=1))
        second = start_worker(log)
        tranches_due_task.delay()
        assert wait_for(lambda: settled(order) == TRANCHES), log.read_text()[-3000:]
    finally:
        first.kill()
        if second is not None:
            stop_worker(second)

    keys = [t.key for t in Tranche.objects.filter(payout__order=order)]
    assert len(keys) == TRANCHES
    assert sorted(SimulatedRailTransfer.objects.values_list("key", flat=True)) == sorted(keys)  # each paid once
    assert LedgerTransaction.objects.filter(key__in=keys).count() == TRANCHES
    assert reconcile() == []
