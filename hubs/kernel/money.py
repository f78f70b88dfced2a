"""Money: one precision for every stored amount, one range it is checked against, one rounding rule per
currency."""

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import DecimalField, Sum
from djmoney.models.fields import MoneyField
from moneyed import CURRENCIES, get_currency

from hubs.kernel.errors import DomainError

MAX_DIGITS = 16
DECIMAL_PLACES = 2

# The largest amount stored exactly on every database: SQLite reads a decimal column back through a
# float of 15 significant digits, so two decimals leave 13 digits before the point (the columns hold 16).
MAX_AMOUNT = Decimal(10) ** (15 - DECIMAL_PLACES) - Decimal("0.01")
OUT_OF_RANGE = f"Give an amount of at most {MAX_AMOUNT:,}."


# The smallest stored amount: every amount column has DECIMAL_PLACES decimals.
CENT = Decimal(1).scaleb(-DECIMAL_PLACES)


class AmountSum(Sum):
    """The sum of amount columns, read back to the cent on every database: SQLite sums decimals as floats, and
    cents that add up to 123464.00 came back as 123464.000000001."""

    output_field = DecimalField(max_digits=MAX_DIGITS + 4, decimal_places=DECIMAL_PLACES)

    def get_db_converters(self, connection):
        return [*super().get_db_converters(connection), _to_the_cent]


def _to_the_cent(value, expression, connection):
    return None if value is None else Decimal(value).quantize(CENT)


def validate_amount(value) -> None:
    """Refuse an amount (a Decimal or a Money) that a money column cannot give back exactly."""
    amount = getattr(value, "amount", value)
    if isinstance(amount, Decimal) and amount.is_finite() and abs(amount) > MAX_AMOUNT:
        raise ValidationError(OUT_OF_RANGE, code="amount_out_of_range")


class AmountField(MoneyField):
    """djmoney's MoneyField that refuses, on every write, an amount it could not read back.

    Forms built from the model validate it too; the API's MoneyField and `amount_form_field` check
    the same range at their boundary, so a user sees the error on the field before a service runs.
    """

    default_validators = [validate_amount]

    def get_db_prep_save(self, value, connection):
        try:
            validate_amount(value)
        except ValidationError as exc:
            raise DomainError(exc.messages[0], code="amount_out_of_range", attr=self.name) from exc
        return super().get_db_prep_save(value, connection)

    def deconstruct(self):
        # Migrations need no more than djmoney's field: the range is a check, not a column property.
        name, _, args, kwargs = super().deconstruct()
        return name, "djmoney.models.fields.MoneyField", args, kwargs


def money_field(**kwargs):
    """A money column at the project's precision; its currency column sits beside it."""
    return AmountField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, default_currency=None, **kwargs)


def amount_form_field(**kwargs) -> forms.DecimalField:
    """A form's amount field, checked against the range a money column holds."""
    return forms.DecimalField(
        max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, validators=[validate_amount], **kwargs
    )


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


def allocate(total, weights) -> list:
    """`total` (a Money) split in proportion to `weights`, in whole minor units of its currency, the parts summing
    to it exactly: each part is rounded down, and the units left over go to the largest remainders (the earliest
    first among equal ones)."""
    from djmoney.money import Money

    if not weights or any(weight < 0 for weight in weights) or not sum(weights):
        raise ValueError("Weights are at least one, none below zero, and not all zero.")
    currency = total.currency.code
    unit = minor_unit(currency)
    units = int(total.amount / unit)
    if Decimal(units) * unit != total.amount:
        raise ValueError(f"{total} is not in whole minor units of {currency}.")
    whole = sum(Decimal(weight) for weight in weights)
    shares = [Decimal(units) * Decimal(weight) / whole for weight in weights]
    parts = [int(share) for share in shares]  # rounded toward zero: the sign of `total` is kept
    left = units - sum(parts)
    step = 1 if left > 0 else -1
    by_remainder = sorted(range(len(shares)), key=lambda i: (-abs(shares[i] - parts[i]), i))
    for i in by_remainder[: abs(left)]:
        parts[i] += step
    return [Money(Decimal(part) * unit, currency) for part in parts]
