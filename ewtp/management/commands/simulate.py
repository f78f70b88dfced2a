from contextlib import nullcontext
from statistics import median

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ewtp.celery import app
from ewtp.simulation import DEMO_PAIRS, Simulation
from hubs.kernel.errors import DomainError


def _pair(text: str) -> tuple[str, str]:
    origin, _, destination = text.upper().partition(":")
    if not origin or not destination:
        raise CommandError(f"A hub pair is ORIGIN:DESTINATION, such as HGH:MYS, not {text!r}.")
    return origin, destination


class Command(BaseCommand):
    help = (
        "Drive N demo orders through the whole journey (the demo data must be loaded: seed_demo), playing the "
        "buyers, officers, fulfilment centres and carrier, while Celery workers (or this process, with --eager) run "
        "the platform's steps; then print a summary per lane and per hub pair."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=20)
        parser.add_argument(
            "--hubs", nargs="*", type=_pair, help=f"hub pairs ORIGIN:DESTINATION (default: {DEMO_PAIRS})"
        )
        parser.add_argument("--eager", action="store_true", help="run the tasks in this process: no worker needed")
        parser.add_argument("--timeout", type=float, default=600, help="seconds before giving up")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, orders, hubs, eager, timeout, seed, **options):
        if orders < 1:
            raise CommandError("--orders is at least 1.")
        try:
            simulation = Simulation(orders=orders, pairs=hubs, seed=seed, log=self.stdout.write)
        except DomainError as refused:
            raise CommandError(refused.detail) from None
        eager_tasks = _Eager() if eager else nullcontext()
        with eager_tasks, tqdm(total=orders, desc="orders final", unit="order", file=self.stderr) as bar:
            summary = simulation.run(timeout=timeout, progress=bar.update)
        report = summary.report()
        self.stdout.write(
            f"{summary.rounds} rounds in {summary.seconds:.1f} s; {simulation.final()} of {orders} orders final."
        )
        header = f"{'':<12} {'orders':>7} {'final':>6} {'release (min, median)':>22} {'tranches':>9}  duties"
        self.stdout.write(header)
        for key in sorted(report):
            row = report[key]
            minutes = f"{median(row['release_minutes']):.2f}" if row["release_minutes"] else "-"
            duties = ", ".join(f"{currency} {amount:,.2f}" for currency, amount in sorted(row["duties"].items()))
            self.stdout.write(
                f"{key:<12} {row['orders']:>7} {row['final']:>6} {minutes:>22} {row['tranches']:>9}  {duties or '-'}"
            )
        if simulation.final() < orders:
            raise CommandError(f"Only {simulation.final()} of {orders} orders reached the end in {timeout:g} s.")


class _Eager:
    """Tasks run in this process, as they are sent (on commit)."""

    def __enter__(self):
        self.before = app.conf.task_always_eager
        app.conf.task_always_eager = True

    def __exit__(self, *exc):
        app.conf.task_always_eager = self.before
