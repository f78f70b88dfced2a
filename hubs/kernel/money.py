"""Money: one precision for every stored amount, one rounding rule per currency."""

from decimal import ROUND_HALF_UP, Decimal

from djmoney.models.fields import MoneyField
from moneyed import CURRENCIES, get_currency

MAX_DIGITS = 16
DECIMAL_PLACES = 2


def money_field(**kwargs):
    """A MoneyField at the project's precision; its currency column sits beside it."""
    return MoneyField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default_currency=None, **kwargs)


# The largest amount a money column holds.
MAX_AMOUNT = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES) - Decimal("0.01")


def minor_unit(currency):
    """The smallest amount of `currency` as a Decimal exponent: Decimal("0.01") for CNY, Decimal("1") for JPY."""
    places = len(str(get_currency(currency).sub_unit)) - 1
    return Decimal(1).scaleb(-places)


def round_money(amount, currency):
    """Round half-up to the currency's minor unit: the platform's one rounding convention."""
    return Decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def is_currency_code(code: str) -> bool:
    """An ISO 4217 currency code (XXX, "no currency", is none)."""
    return code in CURRENCIES and code != "XXX"
