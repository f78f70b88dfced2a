#!/usr/bin/env python
"""Chaos: `simulate --orders N` through real Celery worker processes while one of them is SIGKILLed every few
seconds and started again. Beat's sweepers are sent every few seconds too (what a killed worker held is lost:
the sweepers find it). Every demo company's partner endpoint, a receiver in this process, wants the orders' ends.
Afterwards every order must be final, `reconcile` clean, and no effect done twice: one carrier booking per
consignment, one rail transfer per settled tranche, one ledger transaction per key, one pre-arrival message per
order, applied, and one webhook event per endpoint and order move, delivered (a partner may receive an event again
after a kill, with its id: at least once, as the platform promises).

    .venv/bin/python bench/chaos.py                 # 1,000 orders, 2 workers, a kill every 4 s (what CI runs)
    .venv/bin/python bench/chaos.py --orders 200    # a shorter run

PostgreSQL (DATABASE_URL's server, else 127.0.0.1:5432) in a throwaway database, with Redis (REDIS_URL, else
127.0.0.1:6379/12) as broker; without them, SQLite and the file-system broker. Exits non-zero on any failure.
"""

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import Database, answers  # noqa: E402 (the same throwaway database)

REDIS_DEFAULT = "redis://127.0.0.1:6379/12"
SWEEP_EVERY = 10  # seconds between two rounds of beat's sweepers
SWEEP_AFTER = 20  # seconds a state waits for its reaction before the sweepers send it again (production: 120)
# The order moves the partner endpoints want: its ends, one per order (they come all through the run).
WEBHOOK_EVENTS = ["order.delivered", "order.cancelled", "order.refunded"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=4.0, help="seconds between two kills")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before the run fails")
    parser.add_argument("--db", choices=["auto", "postgres", "sqlite"], default="auto")
    return parser.parse_args()


def environment(database, var_dir):
    broker = os.environ.get("REDIS_URL") or (REDIS_DEFAULT if database.server and answers(6379) else "")
    env = {
        "DJANGO_SETTINGS_MODULE": "ewtp.settings",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": database.url,
        "CACHE_URL": f"filecache://{var_dir / 'cache'}",
        "DEBUG": "true",  # the demo data's logins are for development only
        "SECRET_KEY": secrets.token_urlsafe(40),
        "LOG_LEVEL": "WARNING",
        "SWEEP_AFTER_SECONDS": str(SWEEP_AFTER),
    }
    if broker:
        env["REDIS_URL"] = broker
    else:
        os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(env)
    return env


class Workers:
    """Worker processes, one of which is killed (SIGKILL) and replaced every `every` seconds; beat's sweepers
    sent every `SWEEP_EVERY` seconds meanwhile."""

    def __init__(self, count, log):
        self.log, self.kills, self.started, self.stopping = log, 0, 0, threading.Event()
        self.processes = [self.start() for _ in range(count)]

    def start(self):
        self.started += 1  # each its own node name, so that remote control tells them apart
        with self.log.open("a") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "ewtp", "worker", "--pool=solo", "--loglevel=WARNING"]
                + ["--without-gossip", "--without-mingle", "--without-heartbeat", f"--hostname=w{self.started}@%h"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def chaos(self, every):
        from customs.tasks import hub_messages_sweep_task
        from ewtp.lifecycle import journey_sweep_task
        from hubs.tasks import webhook_deliveries_sweep_task
        from logistics.tasks import departures_close_due_task
        from payments.tasks import payments_sweep_task, tranches_due_task

        sweepers = [
            journey_sweep_task,
            payments_sweep_task,
            tranches_due_task,
            departures_close_due_task,
            hub_messages_sweep_task,
            webhook_deliveries_sweep_task,
        ]
        next_kill, next_sweep = time.monotonic() + every, 0.0
        while not self.stopping.wait(1):
            if time.monotonic() >= next_sweep:  # beat's minute, shortened; a sweep not run by the next expires
                for sweeper in sweepers:
                    sweeper.apply_async(expires=SWEEP_EVERY)
                next_sweep = time.monotonic() + SWEEP_EVERY
            if time.monotonic() >= next_kill:
                victim = random.randrange(len(self.processes))
                self.processes[victim].send_signal(signal.SIGKILL)
                self.processes[victim].wait()
                self.processes[victim] = self.start()
                self.kills += 1
                next_kill = time.monotonic() + every

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.stopping.set()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class Partner(ThreadingHTTPServer):
    """The partners' receiver, on 127.0.0.1: answers 200 to every event and counts the ids it received."""

    def __init__(self):
        self.received, self.lock = Counter(), threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with partner.lock:
                    partner.received[event["id"]] += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def subscribe_demo_companies(self):
        """Each demo company's seller admin adds an endpoint here, for `WEBHOOK_EVENTS`."""
        from hubs.models import Membership, Role
        from hubs.partner_webhooks import webhook_endpoint_add
        from hubs.scoping import actor_for

        admins = Membership.objects.filter(role=Role.SELLER_ADMIN).select_related("user", "company")
        for admin in {membership.company_id: membership for membership in admins}.values():
            url = f"http://127.0.0.1:{self.server_port}/{admin.company_id}"
            webhook_endpoint_add(
                actor=actor_for(admin.user), company=admin.company, url=url, event_types=WEBHOOK_EVENTS
            )


def effects_once(partner):
    """What was done twice, or is left undone: [] when every effect happened once."""
    from django.db.models import Count

    from customs.models import HubMessage, HubMessageStatus
    from hubs.models import WebhookDelivery, WebhookDeliveryStatus
    from logistics.models import Consignment, SimulatedCarrierBooking
    from payments.models import LedgerTransaction, SimulatedRailTransfer, Tranche, TrancheStatus

    found = []
    consignments = set(Consignment.objects.exclude(waybill="").values_list("public_id", flat=True))
    booked = list(SimulatedCarrierBooking.objects.filter(key__in=consignments).values_list("key", flat=True))
    if sorted(booked) != sorted(consignments):
        found.append(f"carrier bookings {len(booked)} for {len(consignments)} booked consignments")
    settled = sorted(t.key for t in Tranche.objects.filter(status=TrancheStatus.SETTLED))
    sent = sorted(SimulatedRailTransfer.objects.values_list("key", flat=True))
    if settled != sent:
        found.append(f"rail transfers {len(sent)} for {len(settled)} settled tranches")
    unapplied = HubMessage.objects.exclude(status=HubMessageStatus.APPLIED).count()
    if unapplied:
        found.append(f"{unapplied} pre-arrival messages not applied")
    doubled = LedgerTransaction.objects.values("key").annotate(n=Count("pk")).filter(n__gt=1).count()
    if doubled:
        found.append(f"{doubled} ledger keys posted more than once")
    events = WebhookDelivery.objects.values("endpoint", "event").annotate(n=Count("pk")).filter(n__gt=1).count()
    if events:
        found.append(f"{events} order moves written out to an endpoint more than once")
    undelivered = WebhookDelivery.objects.exclude(status=WebhookDeliveryStatus.DELIVERED).count()
    if undelivered:
        found.append(f"{undelivered} webhook deliveries not delivered")
    delivered = set(WebhookDelivery.objects.values_list("public_id", flat=True))
    if missed := len(delivered - set(partner.received)):
        found.append(f"{missed} webhook events marked delivered that the partner never received")
    return found


@contextmanager
def demo_platform(choice, prefix):
    """A throwaway database (`choice`: auto, postgres or sqlite) migrated, with the demo data, and the broker's
    queue empty, for workers and a simulation; yields the environment set. Dropped and deleted afterwards."""
    var_dir = Path(tempfile.mkdtemp(prefix=prefix))
    database = Database(choice, var_dir)
    try:
        env = environment(database, var_dir)
        import django

        django.setup()
        from django.core.management import call_command

        from ewtp.celery import app

        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        app.control.purge()
        yield env
    finally:
        from django.db import connections

        connections.close_all()
        database.drop()
        shutil.rmtree(var_dir, ignore_errors=True)


def main():
    args = parse_args()
    with (
        demo_platform(args.db, "ewtp-chaos-") as env,
        Workers(args.workers, Path(env["VAR_DIR"]) / "workers.log") as workers,
    ):
        from django.db.models import Q
        from django.utils import timezone

        from customs.exchange import UNDELIVERED
        from customs.models import HubMessage
        from ewtp.simulation import Simulation
        from hubs.models import WebhookDelivery, WebhookDeliveryStatus
        from payments.models import Tranche, TrancheStatus
        from payments.reconciliation import reconcile

        partner = Partner()
        partner.subscribe_demo_companies()
        chaos = threading.Thread(target=workers.chaos, args=(args.kill_every,), daemon=True)
        chaos.start()
        began = time.monotonic()
        simulation = Simulation(orders=args.orders, seed=7, log=lambda line: None)
        summary = simulation.run(timeout=args.timeout, pause=0.5)

        def unsettled():  # due today (a UTC date: no hub is behind it by a day) or left sending
            due = Q(status=TrancheStatus.SCHEDULED, send_on__lte=timezone.now().date())
            return Tranche.objects.filter(due | Q(status=TrancheStatus.SENDING)).count()

        def undelivered():  # the payouts due today, the hub messages and the webhooks
            pending = WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING).exists()
            return unsettled() or pending or HubMessage.objects.filter(status__in=UNDELIVERED).exists()

        simulated = time.monotonic() - began
        deadline = time.monotonic() + 180  # delivered through the kills too (the sweeps go on)
        while undelivered() and time.monotonic() < deadline:
            time.sleep(2)
        seconds = time.monotonic() - began
        workers.stop()

        final = simulation.final()
        differences = reconcile()
        twice = effects_once(partner)
        kind = "PostgreSQL + Redis" if "REDIS_URL" in env else "SQLite + file-system broker"
        print(
            f"\nChaos: {kind}; {args.orders} orders, {args.workers} workers, {workers.kills} SIGKILLs "
            f"(one every {args.kill_every:g} s), {summary.rounds} rounds in {seconds:.0f} s "
            f"({args.orders / seconds:.1f} orders/s; the last payouts, hub messages and webhooks delivered "
            f"{seconds - simulated:.0f} s after the last order was final)"
        )
        print(f"orders final: {final} of {args.orders} ({100 * final / args.orders:.0f}%)")
        print(f"reconcile: {'clean' if not differences else f'{len(differences)} differences'}")
        print(f"effects done twice or left undone: {twice or 'none'}")
        print(f"tranches due and not settled: {unsettled()}")
        again = sum(count - 1 for count in partner.received.values())
        print(f"webhook events: {len(partner.received)} received, {again} of them again after a kill (same id)")
        partner.shutdown()
        ok = final == args.orders and not differences and not twice and not unsettled()
        if not ok:
            print(workers.log.read_text()[-5000:])
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
