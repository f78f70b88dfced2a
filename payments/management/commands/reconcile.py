from datetime import date

from django.core.management.base import BaseCommand, CommandError

from payments.services import reconciliation_run


class Command(BaseCommand):
    help = (
        "Prove the books: account totals equal their postings, every transaction balances per currency, escrow "
        "holds what the open captures leave in it. Lists each difference; exits non-zero when there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first day (YYYY-MM-DD) of the transactions checked")
        parser.add_argument("--to", dest="end", help="last day (YYYY-MM-DD) of the transactions checked")

    def handle(self, *args, start=None, end=None, **options):
        try:
            run = reconciliation_run(start=_day(start, "--from"), end=_day(end, "--to"))
        except ValueError as error:
            raise CommandError(str(error)) from None
        for difference in run.differences:
            self.stdout.write(
                f"{difference['check']}: {difference['subject']}: expected {difference['expected']}, "
                f"found {difference['found']}"
            )
        if run.differences:
            raise CommandError(f"{len(run.differences)} difference(s) found.")
        self.stdout.write(self.style.SUCCESS("The books reconcile: no difference."))


def _day(text, option):
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} takes a date as YYYY-MM-DD, not “{text}”.") from None
