"""FX reference rates: the rate in force on a date, cross rates through the base currency, conversion.

Rates stay unrounded `Decimal`; a conversion rounds only its final amount, half-up, to the target
currency's minor unit, and names the snapshot(s) and the rate it used.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from djmoney.money import Money

from hubs.kernel.cache import Snapshot
from hubs.kernel.errors import DomainError
from hubs.kernel.money import is_currency_code, round_money
from hubs.models import FX_RATES, FxRate, FxSource

BASE = "EUR"  # the ECB quotes every rate as 1 EUR = x


def display_rate(rate: Decimal) -> str:
    """A rate for people: eight significant digits, never an exponent (the stored rate stays exact)."""
    with localcontext() as context:
        context.prec = 8
        return f"{(+rate).normalize():f}"


@dataclass(frozen=True)
class Conversion:
    source: Money
    amount: Money
    rate: Decimal
    rate_date: date
    snapshots: tuple
    provenance: str

    @property
    def explanation(self) -> str:
        return (
            f"{self.source.currency.code} {self.source.amount:.2f} × {display_rate(self.rate)} ({self.provenance}) "
            f"= {self.amount.currency.code} {self.amount.amount:.2f}"
        )

    def as_record(self, figure: str) -> dict:
        """What a quote keeps of it: the figure it converted, the rate and its date, the snapshots."""
        return {
            "figure": figure,
            "from": self.source.currency.code,
            "to": self.amount.currency.code,
            "amount": str(self.source.amount),
            "converted": str(self.amount.amount),
            "rate": str(self.rate),
            "rate_date": self.rate_date.isoformat(),
            "source": self.provenance,
            "snapshots": [snapshot.pk for snapshot in self.snapshots],
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class CrossRate:
    """1 `base` = `rate` `quote`, from the snapshots in force on a date."""

    base: str
    quote: str
    rate: Decimal
    snapshots: tuple

    @property
    def rate_date(self) -> date | None:
        """The date of its oldest snapshot: how old the rate is."""
        return min((snapshot.rate_date for snapshot in self.snapshots), default=None)

    @property
    def provenance(self) -> str:
        """ "ECB 2026-10-30, via EUR": where the rate comes from."""
        if not self.snapshots:
            return "the same currency"
        labels = dict.fromkeys(
            f"{snapshot.get_source_display()} {snapshot.rate_date}"
            if snapshot.source == FxSource.ECB
            else f"entered at {snapshot.hub.code if snapshot.hub_id else 'the platform'} {snapshot.rate_date}"
            for snapshot in self.snapshots
        )
        via = [
            currency
            for snapshot in self.snapshots
            for currency in (snapshot.base, snapshot.quote)
            if currency not in (self.base, self.quote)
        ]
        return ", ".join(labels) + (f", via {'/'.join(dict.fromkeys(via))}" if via else "")

    def convert(self, money: Money) -> Conversion:
        if money.currency.code != self.base:
            raise ValueError(f"{self} converts {self.base}, not {money.currency.code}")
        amount = round_money(money.amount * self.rate, self.quote)
        return Conversion(money, Money(amount, self.quote), self.rate, self.rate_date, self.snapshots, self.provenance)


def require_currency(code: str, attr: str = "currency") -> str:
    if not is_currency_code(code):
        raise DomainError(f"“{code}” is not an ISO 4217 currency code such as CNY.", code="unknown_currency", attr=attr)
    return code


def _latest(rates, on: date):
    return rates.filter(rate_date__lte=on).select_related("hub").order_by("-rate_date", "-published_at").first()


# The rates looked up so far, by (currency, date): stored rates never change, and a new one bumps FX_RATES.
_known = Snapshot(FX_RATES, dict)


def _from_base(currency: str, on: date):
    """1 EUR in `currency` on `on`, and the snapshots that say so; None when no rate is known.

    A rate the ECB does not publish is entered against EUR or against a currency the ECB publishes.
    """
    if currency == BASE:
        return Decimal(1), ()
    known = _known.get()
    if (currency, on) not in known:
        known[currency, on] = _from_base_in_database(currency, on)
    return known[currency, on]


def _from_base_in_database(currency: str, on: date):
    direct = _latest(FxRate.objects.filter(base=BASE, quote=currency), on)
    if direct is not None:
        return direct.rate, (direct,)
    entered = _latest(FxRate.objects.filter(quote=currency).exclude(base=BASE), on)
    if entered is None:
        return None
    leg = _latest(FxRate.objects.filter(base=BASE, quote=entered.base), on)
    if leg is None:
        return None
    return leg.rate * entered.rate, (leg, entered)


def fx_rate_on(base: str, quote: str, on: date, *, max_age_days: int | None = None, attr=None) -> CrossRate:
    """The rate the platform uses for `base` → `quote` on `on`: the latest published on or before it.

    Refuses with `fx_unavailable` when either currency has no rate, and with `fx_stale` when the
    newest is older than `max_age_days`.
    """
    require_currency(base, "base")
    require_currency(quote, "quote")
    if base == quote:
        return CrossRate(base, quote, Decimal(1), ())
    legs = [_from_base(base, on), _from_base(quote, on)]
    if None in legs:
        raise DomainError(
            f"No reference rate for {base} → {quote} on or before {on}: a hub supervisor can enter one.",
            code="fx_unavailable",
            attr=attr,
        )
    (base_rate, base_snapshots), (quote_rate, quote_snapshots) = legs
    cross = CrossRate(base, quote, quote_rate / base_rate, base_snapshots + quote_snapshots)
    if max_age_days is not None and (on - cross.rate_date).days > max_age_days:
        raise DomainError(
            f"The newest {base} → {quote} rate is of {cross.rate_date}, older than the {max_age_days} days "
            "this hub accepts: a newer rate must be loaded first.",
            code="fx_stale",
            attr=attr,
        )
    return cross
