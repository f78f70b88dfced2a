#!/usr/bin/env python
"""The whole journey's throughput: `simulate` through 1, then 2, real Celery worker processes, beside Celery's own
no-op task (`celery.ping`) on the same broker, measured in the same run as the ceiling.

    .venv/bin/python bench/journey.py                # 200 orders per worker count
    .venv/bin/python bench/journey.py --orders 50

For each worker count it prints: orders per second from the first order placed to the last order final, the
platform's tasks run per second beside the no-op tasks per second, as a ratio; then the green lane's times (median
and p99) from payment to import release, and of the platform's own legs alone (payment to export release, the
carrier's "in transit" to import release), the rest being the simulated people's steps. The simulation plays the buyers,
officers, fulfilment centres and carrier from this process, as `simulate` does.

PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432) in a throwaway database, with Redis (REDIS_URL, else
127.0.0.1:6379/12) as broker; without them, SQLite and the file-system broker.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chaos import Workers, demo_platform  # noqa: E402 (the same database, broker and workers)

NOOPS = 3000  # no-op tasks queued per measurement


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per worker count")
    parser.add_argument("--db", choices=["auto", "postgres", "sqlite"], default="auto")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds before a simulation gives up")
    return parser.parse_args()


def waiting():
    """Messages in the default queue, whatever the broker."""
    from ewtp.celery import app

    with app.connection_for_write() as connection:
        return connection.default_channel.queue_declare(queue=app.conf.task_default_queue).message_count


def drain(deadline=600):
    end = time.monotonic() + deadline
    while waiting() and time.monotonic() < end:
        time.sleep(0.2)


def noops_queue():
    """Celery's own no-op task, queued `NOOPS` times before the workers start."""
    from ewtp.celery import app

    with app.producer_or_acquire() as producer:
        for _ in range(NOOPS):
            app.send_task("celery.ping", producer=producer)


def noop_rate():
    """No-op tasks per second through the workers just started on the queue `noops_queue` filled: the rate is read
    between 90% and 10% left, so that neither the sending nor the workers' start-up counts."""
    marks = {}
    while (left := waiting()) > NOOPS // 10:
        if left <= NOOPS * 9 // 10:
            marks.setdefault("start", time.monotonic())
        time.sleep(0.02)
    rate = (NOOPS * 8 // 10) / (time.monotonic() - marks.get("start", time.monotonic() - 1e-9))
    drain()
    return rate


def tasks_run():
    """Tasks the running workers have run (their own counts), or None where the broker takes no remote control."""
    from ewtp.celery import app

    stats = app.control.inspect(timeout=2).stats() or {}
    if not stats:
        return None
    return sum(n for worker in stats.values() for name, n in worker.get("total", {}).items() if name != "celery.ping")


def green_seconds(orders):
    """The green lane's times, in seconds: payment → import release (the whole road, with the simulated people's
    steps between), and the platform's own legs alone: payment → export release, and the carrier's "in transit"
    → import release (shipped, declared, matched, scored, released)."""
    from customs.models import Declaration, DeclarationStatus, Direction, Lane
    from logistics.models import ShipmentStatus, TrackingEvent
    from payments.models import Payment

    def released(direction):
        rows = Declaration.objects.filter(
            order__in=orders, direction=direction, lane=Lane.GREEN, status=DeclarationStatus.RELEASED
        )
        return dict(rows.values_list("order_id", "decided_at"))

    paid = dict(
        Payment.objects.filter(order__in=orders, captured_at__isnull=False).values_list("order_id", "captured_at")
    )
    in_transit = dict(
        TrackingEvent.objects.filter(shipment__order__in=orders, status=ShipmentStatus.IN_TRANSIT).values_list(
            "shipment__order_id", "occurred_at"
        )
    )
    exported, imported = released(Direction.EXPORT), released(Direction.IMPORT)

    def legs(start, end):
        return sorted((end[order] - start[order]).total_seconds() for order in end.keys() & start.keys())

    return {
        "payment → import release": legs(paid, imported),
        "payment → export release": legs(paid, exported),
        "in transit → import release": legs(in_transit, imported),
    }


def percentile(values, share):
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1] if len(values) > 1 else values[0]


def main():
    args = parse_args()
    with demo_platform(args.db, "ewtp-journey-") as env:
        from ewtp.simulation import Simulation

        kind = "PostgreSQL + Redis" if "REDIS_URL" in env else "SQLite + file-system broker"
        print(f"Journey: {kind}; {args.orders} orders per run, the demo's hub pairs and lanes")
        rows = []
        for count in (1, 2):
            noops_queue()
            with Workers(count, Path(env["VAR_DIR"]) / "workers.log"):
                noop = noop_rate()
                before = tasks_run()
                began = time.monotonic()
                simulation = Simulation(orders=args.orders, seed=count, log=lambda line: None)
                simulation.run(timeout=args.timeout, pause=0.2)
                seconds = time.monotonic() - began
                final = simulation.final()
                drain()  # the steps after the last delivery (refund claims, payouts) count as tasks too
                after, busy = tasks_run(), time.monotonic() - began
            tasks = None if before is None or after is None else (after - before) / busy
            rows.append((count, final, seconds, tasks, noop, green_seconds(simulation.summary.orders)))
            if final < args.orders:
                print(f"{count} worker(s): {final} of {args.orders} orders final in {seconds:.0f} s", file=sys.stderr)
                return 1
        print(f"{'workers':>7} {'orders/s':>9} {'tasks/s':>8} {'no-op/s':>8} {'ratio':>6}")
        for count, _final, seconds, tasks, noop, _green in rows:
            ratio = f"{tasks / noop:.3f}" if tasks is not None else "-"
            tasks = f"{tasks:.1f}" if tasks is not None else "-"
            print(f"{count:>7} {args.orders / seconds:>9.2f} {tasks:>8} {noop:>8.0f} {ratio:>6}")
        print("\nGreen lane, seconds (median, p99, orders):")
        for count, *_, green in rows:
            for leg, values in green.items():
                figures = (
                    f"{statistics.median(values):7.2f} {percentile(values, 99):7.2f} {len(values):5}" if values else "-"
                )
                print(f"{count} worker(s)  {leg:<28} {figures}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
