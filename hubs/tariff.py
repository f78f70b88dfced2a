"""The tariff calculator: basket + the destination hub's rules + the consumer's year → duties and taxes.

Pure: no database access. The caller loads the rule set in force (`hubs.selectors.rule_set_in_force`)
and the consumer's usage of the annual limit, and passes them in. Every tax of every line is computed
in Decimal and rounded half-up to the currency's minor unit; a total is the sum of rounded figures.
"""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from django.db import models

from hubs.kernel.errors import DomainError
from hubs.kernel.money import MAX_AMOUNT, is_currency_code, minor_unit, round_money

ZERO = Decimal(0)


class ImportRules(models.TextChoices):
    """The family of import rules a hub applies; its parameters live on the rule set."""

    CHINA_CBEC = "china_cbec", "China cross-border e-commerce retail import"
    MALAYSIA_DFTZ = "malaysia_dftz", "Malaysia Digital Free Trade Zone"


class Regime(models.TextChoices):
    CBEC_RETAIL = "cbec_retail", "CBEC retail import"
    GENERAL_TRADE = "general_trade", "General trade import"
    DE_MINIMIS = "de_minimis", "De minimis"
    LOW_VALUE_GOODS = "low_value_goods", "Low-value goods (LVG)"


class ExportRegime(models.TextChoices):
    CBEC_EXPORT = "cbec_export", "CBEC export, VAT refunded where due"
    MARKET_PROCUREMENT = "market_procurement", "Market procurement, VAT exempt without refund"
    EXEMPT = "exempt", "Exempt from sales tax, no refund"


class TaxKind(models.TextChoices):
    DUTY = "duty", "Customs duty"
    VAT = "vat", "Import VAT"
    CONSUMPTION_TAX = "consumption_tax", "Consumption tax"
    SALES_TAX = "sales_tax", "Sales tax"
    LVG_TAX = "lvg_tax", "Low-value goods (LVG) tax"


class Admissibility(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    PERMIT_REQUIRED = "permit_required", "Permit required"
    NOT_ON_POSITIVE_LIST = "not_on_positive_list", "Not on the positive list"
    PROHIBITED = "prohibited", "Prohibited"


@dataclass(frozen=True)
class RateRule:
    """Rates for the HS codes that start with `hs_prefix` ("" is the hub's default row)."""

    hs_prefix: str
    duty_rate: Decimal = ZERO
    vat_rate: Decimal = ZERO  # import VAT in China, sales tax in Malaysia
    consumption_tax_rate: Decimal = ZERO
    # The consumption tax applies only from these prices per unit of measure ({"g": 10, "piece": 15});
    # empty: it always applies.
    consumption_tax_min_unit_price: dict = field(default_factory=dict)
    cbec_positive_list: bool = True
    export_refund_rate: Decimal = ZERO
    admissibility: str = Admissibility.ALLOWED
    de_minimis_excluded: bool = False
    note: str = ""  # what the row covers, shown as the reason of a refusal


@dataclass(frozen=True)
class Rules:
    """A published rule-set version of one hub, as the calculator needs it."""

    hub: str
    version: int
    currency: str
    import_rules: str
    rates: tuple
    cbec_order_limit: Decimal | None = None
    cbec_annual_limit: Decimal | None = None
    cbec_tax_factor: Decimal | None = None
    de_minimis_threshold: Decimal | None = None
    de_minimis_includes_freight: bool = True
    lvg_rate: Decimal | None = None
    lvg_threshold: Decimal | None = None
    market_procurement_cap: Decimal | None = None
    market_procurement_cap_currency: str = ""

    def rate_for(self, hs_code):
        """The rate row with the longest prefix of `hs_code`."""
        matches = [rate for rate in self.rates if hs_code.startswith(rate.hs_prefix)]
        if not matches:
            raise DomainError(f"Rule set {self.hub} v{self.version} has no rate for HS {hs_code}.", code="no_rate")
        return max(matches, key=lambda rate: len(rate.hs_prefix))

    def admissibility(self, hs_code):
        """Whether goods of `hs_code` may be sold into this hub, and why not."""
        rate = self.rate_for(hs_code)
        if rate.admissibility != Admissibility.ALLOWED:
            return Admissibility(rate.admissibility)
        if self.import_rules == ImportRules.CHINA_CBEC and not rate.cbec_positive_list:
            return Admissibility.NOT_ON_POSITIVE_LIST
        return Admissibility.ALLOWED


@dataclass(frozen=True)
class Measure:
    quantity: Decimal
    unit: str  # g, ml, kg, l, piece


@dataclass(frozen=True)
class BasketLine:
    hs_code: str
    quantity: int
    unit_price: Decimal
    measure: Measure = Measure(Decimal(1), "piece")
    description: str = ""


@dataclass(frozen=True)
class Basket:
    currency: str
    lines: tuple
    freight: Decimal = ZERO
    insurance: Decimal = ZERO


@dataclass(frozen=True)
class Tax:
    kind: str
    rate: Decimal
    base: Decimal
    amount: Decimal
    explanation: str


@dataclass(frozen=True)
class LineAssessment:
    line: BasketLine
    value: Decimal  # goods: quantity × unit price
    freight_share: Decimal  # this line's share of freight and insurance
    taxes: tuple

    @property
    def taxes_total(self):
        return sum((tax.amount for tax in self.taxes), ZERO)


@dataclass(frozen=True)
class Assessment:
    regime: str
    hub: str
    version: int
    currency: str
    lines: tuple
    goods: Decimal
    freight: Decimal
    insurance: Decimal
    duties_and_taxes: Decimal
    total: Decimal
    quota_counted: Decimal  # what this order adds to the consumer's annual CBEC usage
    explanation: str


def pct(rate):
    """A rate as a percentage: 0.13 is "13%"."""
    return f"{(rate * 100).normalize():f}%"


def _validate(basket):
    if not basket.lines:
        raise DomainError("A basket needs at least one line.", code="empty_basket", attr="lines")
    for i, line in enumerate(basket.lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise DomainError("Quantity must be a whole number above zero.", code="invalid_quantity", attr=f"lines.{i}")
        if line.unit_price <= 0:
            raise DomainError("Unit price must be above zero.", code="invalid_price", attr=f"lines.{i}")
        if line.measure.quantity <= 0:
            raise DomainError("Unit measure must be above zero.", code="invalid_measure", attr=f"lines.{i}")
    for name in ("freight", "insurance"):
        amount = getattr(basket, name)
        if amount < 0 or amount != round_money(amount, basket.currency):
            raise DomainError(
                f"{name.capitalize()} is zero or more, in whole {basket.currency} minor units.",
                code=f"invalid_{name}",
                attr=name,
            )


def _refuse_inadmissible(basket, rules):
    for i, line in enumerate(basket.lines):
        verdict = rules.admissibility(line.hs_code)
        if verdict != Admissibility.ALLOWED:
            note = rules.rate_for(line.hs_code).note
            raise DomainError(
                f"HS {line.hs_code} cannot be sold into {rules.hub}: {verdict.label.lower()}"
                + (f" ({note})." if note else "."),
                code=verdict.value,
                attr=f"lines.{i}",
            )


def _freight_shares(values, extra, currency):
    """Split freight and insurance over the lines in proportion to their value, to the minor unit.

    Largest remainder: every share is rounded down, and the units left over go to the lines that
    lost the most, so the shares add up exactly and none is negative.
    """
    unit = minor_unit(currency)
    total = sum(values, ZERO)
    exact = [extra * value / total for value in values]
    shares = [share.quantize(unit, rounding=ROUND_DOWN) for share in exact]
    leftover = int((extra - sum(shares, ZERO)) / unit)
    by_remainder = sorted(range(len(values)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[:leftover]:
        shares[i] += unit
    return shares


# Measures in kilograms and litres are compared per gram and per millilitre.
BASE_UNITS = {"kg": ("g", 1000), "l": ("ml", 1000)}


def _consumption_tax_applies(rate, line):
    """Cosmetics are taxed only from a price per unit of measure (CNY 10 per g or ml, 15 per piece).

    With no thresholds, or none for the line's unit of measure, the tax applies.
    """
    thresholds = rate.consumption_tax_min_unit_price
    unit, per = BASE_UNITS.get(line.measure.unit, (line.measure.unit, 1))
    if unit not in thresholds:
        return True
    return line.unit_price / (line.measure.quantity * per) >= Decimal(str(thresholds[unit]))


def _china_line_taxes(line, rate, customs_value, currency, factor, general_trade):
    """Duty, consumption tax and VAT of one line; `factor` scales the statutory VAT and CT (0.7 in CBEC)."""

    def money(amount):
        return round_money(amount, currency)

    cv = money(customs_value)
    duty_rate = rate.duty_rate if general_trade else ZERO
    duty = money(cv * duty_rate)
    taxes = [
        Tax(
            TaxKind.DUTY,
            duty_rate,
            cv,
            duty,
            f"{cv} × {pct(duty_rate)} = {duty}" if general_trade else "0% within the CBEC limits",
        )
    ]
    ct_full = ZERO
    scaled = "" if factor == 1 else f" × {factor.normalize()}"
    if rate.consumption_tax_rate:
        ct_rate = rate.consumption_tax_rate if _consumption_tax_applies(rate, line) else ZERO
        ct_base = (cv + duty) / (1 - ct_rate)
        ct_full = ct_base * ct_rate
        ct = money(ct_full * factor)
        why = (
            f"({cv} + duty {duty}) / (1 − {pct(ct_rate)}) = {money(ct_base)}; {money(ct_base)} × {pct(ct_rate)}"
            f"{scaled} = {ct}"
            if ct_rate
            else f"price per {line.measure.unit} below the threshold: no consumption tax"
        )
        taxes.append(Tax(TaxKind.CONSUMPTION_TAX, ct_rate, money(ct_base), ct, why))
    vat_base = cv + duty + ct_full
    vat = money(vat_base * rate.vat_rate * factor)
    taxes.append(
        Tax(
            TaxKind.VAT,
            rate.vat_rate,
            money(vat_base),
            vat,
            f"({cv} + duty {duty} + consumption tax {money(ct_full)}) × {pct(rate.vat_rate)}{scaled} = {vat}",
        )
    )
    return taxes


def _china_regime(basket, rules, value, usage):
    """CBEC retail within the limits; general trade above them (one indivisible item over the order limit
    with room in the year is counted toward it)."""
    within_order = value <= rules.cbec_order_limit
    within_year = usage + value <= rules.cbec_annual_limit
    if within_order and within_year:
        return (
            Regime.CBEC_RETAIL,
            value,
            (
                f"CBEC retail: order {value} ≤ {rules.cbec_order_limit} and within the consumer's annual limit of "
                f"{rules.cbec_annual_limit}; duty 0%, VAT and consumption tax at "
                f"{pct(rules.cbec_tax_factor)} of the statutory amount"
            ),
        )
    if not within_year:
        return (
            Regime.GENERAL_TRADE,
            ZERO,
            (
                f"General trade: this order of {value} does not fit in the consumer's annual limit of "
                f"{rules.cbec_annual_limit}; taxed in full"
            ),
        )
    single_item = len(basket.lines) == 1 and basket.lines[0].quantity == 1
    if not single_item:
        # Not CBEC at all, as an order past the annual limit is not: a general-trade import, whatever its size
        # (11 units or 99,999), never refused and never counted toward the consumer's year.
        return (
            Regime.GENERAL_TRADE,
            ZERO,
            (
                f"General trade: this order of {value} is over the CBEC order limit of {rules.cbec_order_limit} "
                "and is not one indivisible item; taxed in full"
            ),
        )
    return (
        Regime.GENERAL_TRADE,
        value,
        (
            f"One indivisible item over the order limit {rules.cbec_order_limit}: taxed in full as general trade, "
            "and counted toward the annual limit"
        ),
    )


def _assess_china(basket, rules, values, shares, usage):
    value = sum(values, ZERO) + basket.freight + basket.insurance
    regime, counted, explanation = _china_regime(basket, rules, value, usage)
    general = regime == Regime.GENERAL_TRADE
    factor = Decimal(1) if general else rules.cbec_tax_factor
    lines = [
        LineAssessment(
            line,
            line_value,
            share,
            tuple(
                _china_line_taxes(
                    line, rules.rate_for(line.hs_code), line_value + share, basket.currency, factor, general
                )
            ),
        )
        for line, line_value, share in zip(basket.lines, values, shares, strict=True)
    ]
    return regime, counted, explanation, lines


def _assess_malaysia(basket, rules, values, shares):
    currency = basket.currency
    rows = list(zip(basket.lines, values, shares, strict=True))
    goods = sum(values, ZERO)
    cif = goods + basket.freight + basket.insurance
    counted_value = cif if rules.de_minimis_includes_freight else goods
    excluded = any(rules.rate_for(line.hs_code).de_minimis_excluded for line in basket.lines)
    under_de_minimis = (
        rules.de_minimis_threshold is not None and counted_value <= rules.de_minimis_threshold and not excluded
    )
    lines = []
    if under_de_minimis and rules.lvg_rate is not None and goods <= rules.lvg_threshold:
        explanation = (
            f"Low-value goods: goods {goods} ≤ {rules.lvg_threshold}, consignment {counted_value} ≤ "
            f"{rules.de_minimis_threshold}; no duty or import sales tax, LVG tax {pct(rules.lvg_rate)} "
            "of the sale value (shipping and insurance excluded)"
        )
        for line, value, share in rows:
            tax = round_money(value * rules.lvg_rate, currency)
            why = f"{value} × {pct(rules.lvg_rate)} = {tax}"
            lines.append(LineAssessment(line, value, share, (Tax(TaxKind.LVG_TAX, rules.lvg_rate, value, tax, why),)))
        return Regime.LOW_VALUE_GOODS, explanation, lines
    if under_de_minimis:
        explanation = f"De minimis: consignment {counted_value} ≤ {rules.de_minimis_threshold}; no duty, no sales tax"
        return Regime.DE_MINIMIS, explanation, [LineAssessment(line, value, share, ()) for line, value, share in rows]
    reason = "goods excluded from de minimis" if excluded else f"consignment {counted_value} above de minimis"
    explanation = f"General trade ({reason}): duty on the CIF value, sales tax on CIF + duty"
    for line, value, share in rows:
        rate = rules.rate_for(line.hs_code)
        cif_line = round_money(value + share, currency)
        duty = round_money(cif_line * rate.duty_rate, currency)
        sales_base = cif_line + duty
        sales_tax = round_money(sales_base * rate.vat_rate, currency)
        taxes = (
            Tax(TaxKind.DUTY, rate.duty_rate, cif_line, duty, f"CIF {cif_line} × {pct(rate.duty_rate)} = {duty}"),
            Tax(
                TaxKind.SALES_TAX,
                rate.vat_rate,
                sales_base,
                sales_tax,
                f"(CIF {cif_line} + duty {duty}) × {pct(rate.vat_rate)} = {sales_tax}",
            ),
        )
        lines.append(LineAssessment(line, value, share, taxes))
    return Regime.GENERAL_TRADE, explanation, lines


def assess(basket, rules, *, consumer_year_usage=ZERO):
    """Duties and taxes of `basket` imported under `rules`; refuses with a DomainError what may not pass."""
    if basket.currency != rules.currency:
        raise DomainError(
            f"{rules.hub} assesses in {rules.currency}; this basket is in {basket.currency}.",
            code="wrong_currency",
            attr="currency",
        )
    _validate(basket)
    _refuse_inadmissible(basket, rules)
    values = [round_money(line.unit_price * line.quantity, basket.currency) for line in basket.lines]
    shares = _freight_shares(values, basket.freight + basket.insurance, basket.currency)
    if rules.import_rules == ImportRules.CHINA_CBEC:
        regime, counted, explanation, lines = _assess_china(basket, rules, values, shares, consumer_year_usage)
    else:
        regime, explanation, lines = _assess_malaysia(basket, rules, values, shares)
        counted = ZERO
    goods = sum(values, ZERO)
    duties = sum((line.taxes_total for line in lines), ZERO)
    return Assessment(
        regime=regime,
        hub=rules.hub,
        version=rules.version,
        currency=basket.currency,
        lines=tuple(lines),
        goods=goods,
        freight=basket.freight,
        insurance=basket.insurance,
        duties_and_taxes=duties,
        total=goods + basket.freight + basket.insurance + duties,
        quota_counted=counted,
        explanation=explanation,
    )


@dataclass(frozen=True)
class ExportAssessment:
    """The seller's side at the origin hub: the export regime, and what comes back."""

    regime: str
    refund: Decimal
    explanation: str
    # Market procurement: each declaration's (line index, units), as `market_procurement_split` made them.
    parts: tuple = ()

    @property
    def declarations(self) -> int | None:
        """How many market-procurement declarations; None for the other regimes."""
        return len(self.parts) or None


def assess_export(basket, rules, *, regime=None):
    """The export regime of `basket` leaving the hub of `rules`, with its VAT refund or declaration count.

    The basket is in the origin hub's currency, and so is its market-procurement cap (the caller converts).
    """
    if basket.currency != rules.currency:
        raise DomainError(
            f"{rules.hub} assesses exports in {rules.currency}; this basket is in {basket.currency}.",
            code="wrong_currency",
            attr="currency",
        )
    goods = sum((round_money(line.unit_price * line.quantity, basket.currency) for line in basket.lines), ZERO)
    if rules.import_rules == ImportRules.MALAYSIA_DFTZ:
        return ExportAssessment(ExportRegime.EXEMPT, ZERO, "Exports are exempt from sales tax: nothing to refund")
    regime = regime or ExportRegime.CBEC_EXPORT
    if regime == ExportRegime.MARKET_PROCUREMENT:
        if rules.market_procurement_cap is None:
            raise DomainError(f"{rules.hub} has no market procurement.", code="not_offered", attr="export_regime")
        cap = rules.market_procurement_cap
        if rules.market_procurement_cap_currency != basket.currency:
            raise DomainError(
                f"{rules.hub}'s declaration cap is in {rules.market_procurement_cap_currency}: convert it first.",
                code="wrong_currency",
                attr="export_regime",
            )
        parts = market_procurement_split(basket.lines, cap=cap)
        return ExportAssessment(
            regime, ZERO, f"VAT exempt, no refund; {goods} in declarations of at most {cap}: {len(parts)}", parts
        )
    refunds = []
    for i, line in enumerate(basket.lines, start=1):
        rate = rules.rate_for(line.hs_code)
        gross = round_money(line.unit_price * line.quantity, basket.currency)
        amount, why = export_vat_refund(
            gross, vat_rate=rate.vat_rate, refund_rate=rate.export_refund_rate, currency=basket.currency
        )
        refunds.append((amount, f"line {i}: {why}"))
    refund = sum((amount for amount, _ in refunds), ZERO)
    explanation = "; ".join(why for _, why in refunds) + " (a trading company's refund, where the exporter qualifies)"
    return ExportAssessment(regime, refund, explanation)


def export_vat_refund(gross, *, vat_rate, refund_rate, currency):
    """A trading company's export VAT refund: gross invoice / (1 + VAT rate) × refund rate."""
    amount = round_money(gross / (1 + vat_rate) * refund_rate, currency)
    return amount, f"{gross} / (1 + {pct(vat_rate)}) × {pct(refund_rate)} = {amount}"


def market_procurement_split(lines, *, cap) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The market-procurement declarations a basket is lodged as, each worth at most `cap`: its lines in their order,
    a line that does not fit in what is left of a declaration split by whole units. Each declaration is its (line
    index, units). A unit worth more than the cap fits in none: such goods leave under general trade."""
    parts, part, room = [], [], cap
    for index, line in enumerate(lines):
        if line.unit_price > cap:
            raise DomainError(
                f"A unit of line {index + 1} is worth {line.unit_price}, more than a market-procurement declaration "
                f"holds ({cap}): export it under general trade.",
                code="over_declaration_cap",
                attr=f"lines.{index}",
            )
        left = line.quantity
        while left:
            fit = min(left, int(room // line.unit_price)) if line.unit_price else left
            if not fit:
                parts.append(tuple(part))
                part, room = [], cap
                continue
            part.append((index, fit))
            left -= fit
            room -= fit * line.unit_price
    return (*parts, tuple(part)) if part else tuple(parts)


# --- the parameters of each rule family, declared once ---------------------------------------------------
#
# What a rule set's figures may be: the publish service refuses a version that breaks one of these, and the
# officer console shows the same refusal on the field at fault. Rates are fractions (0.13 is 13%).

FACTOR = "factor"  # a share of a statutory amount, from 0 to 1 (0.7 is 70%)
RATE = "rate"  # a tax or duty rate, from 0 up to, not including, 1 (0.13 is 13%)
AMOUNT = "amount"  # money above zero, in whole minor units of its currency
CURRENCY = "currency"  # an ISO 4217 code
UNIT_PRICES = "unit_prices"  # money per unit of measure: {"g": "10", "ml": "10", "piece": "15"}
FLAG = "flag"  # yes or no

# The units a price per unit of measure is given in (a line in kg or l is compared per g or ml).
PRICE_UNITS = ("g", "ml", "piece")


@dataclass(frozen=True)
class Parameter:
    """One figure of a rule family: its kind, whether the family needs it, and how it relates to others."""

    name: str
    label: str
    kind: str
    required: bool = False
    currency: str = ""  # an amount's currency: the parameter that names it; "" for the hub's currency
    partner: str = ""  # a parameter given together with this one, or neither of them
    at_least: str = ""  # a parameter this one may not be below
    zero: str = ""  # for an amount that may be zero: what zero means


RULE_FAMILIES = {
    ImportRules.CHINA_CBEC: (
        Parameter("cbec_order_limit", "CBEC order limit", AMOUNT, required=True),
        Parameter("cbec_annual_limit", "CBEC annual limit", AMOUNT, required=True, at_least="cbec_order_limit"),
        Parameter("cbec_tax_factor", "CBEC tax factor", FACTOR, required=True),
        Parameter(
            "market_procurement_cap",
            "Market-procurement cap",
            AMOUNT,
            currency="market_procurement_cap_currency",
            partner="market_procurement_cap_currency",
        ),
        Parameter(
            "market_procurement_cap_currency",
            "Market-procurement cap currency",
            CURRENCY,
            partner="market_procurement_cap",
        ),
    ),
    ImportRules.MALAYSIA_DFTZ: (
        Parameter("de_minimis_threshold", "De minimis threshold", AMOUNT, required=True, zero="no de minimis"),
        Parameter("de_minimis_includes_freight", "De minimis includes freight", FLAG),
        Parameter("lvg_rate", "Low-value goods tax rate", RATE, partner="lvg_threshold"),
        Parameter("lvg_threshold", "Low-value goods threshold", AMOUNT, partner="lvg_rate"),
    ),
}

# Every parameter a rule set row holds, whichever family uses it.
RULE_SET_PARAMETERS = tuple(dict.fromkeys(p.name for family in RULE_FAMILIES.values() for p in family))

RATE_PARAMETERS = (
    Parameter("duty_rate", "Duty rate", RATE),
    Parameter("vat_rate", "VAT or sales tax rate", RATE),
    Parameter("consumption_tax_rate", "Consumption tax rate", RATE),
    Parameter("export_refund_rate", "Export refund rate", RATE),
    Parameter("consumption_tax_min_unit_price", "Consumption tax from", UNIT_PRICES),
)


def _decimal(value):
    """`value` as a finite Decimal, or None when it is no number."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _amount_problem(value, currency, zero=""):
    amount = _decimal(value)
    if amount is None or amount < 0 or (amount == 0 and not zero):
        return f"an amount of zero ({zero}) or more, not {value}" if zero else f"an amount above zero, not {value}"
    if amount > MAX_AMOUNT:
        return f"an amount of at most {MAX_AMOUNT}, not {value}"
    if currency and is_currency_code(currency) and amount != round_money(amount, currency):
        return f"an amount in whole {currency} minor units ({minor_unit(currency)}), not {value}"
    return None


def value_problem(kind, value, currency="", zero=""):
    """What is wrong with `value` as a figure of `kind` ("a fraction from 0 up to 1 …, not 5"); None if nothing.

    `currency` is the currency of an amount, when it is known; `zero` says what an amount of zero means,
    for one that may be zero.
    """
    if kind == FACTOR:
        number = _decimal(value)
        return None if number is not None and 0 <= number <= 1 else f"a share from 0 to 1, such as 0.7, not {value}"
    if kind == RATE:
        number = _decimal(value)
        valid = number is not None and 0 <= number < 1
        return None if valid else f"a fraction from 0 up to 1, such as 0.13 for 13%, not {value}"
    if kind == AMOUNT:
        return _amount_problem(value, currency, zero)
    if kind == CURRENCY:
        return None if is_currency_code(str(value)) else f"an ISO 4217 currency code such as USD, not {value}"
    if kind == UNIT_PRICES:
        if not isinstance(value, dict):
            return 'prices per unit of measure, such as {"g": "10", "ml": "10", "piece": "15"}'
        for unit, price in value.items():
            if unit not in PRICE_UNITS:
                return f"prices per g, ml or piece; “{unit}” is not a unit of measure here"
            problem = _amount_problem(price, currency)
            if problem:
                return f"the price per {unit}: {problem}"
    return None


def _is_empty(value):
    return value is None or value == ""


def parameter_errors(import_rules, values, *, currency):
    """Everything wrong with a rule set's parameters under its family, as DomainErrors naming the parameter
    at fault (`attr`); empty when the family can apply them. `values` maps parameter names to values;
    `currency` is the hub's."""
    family = {parameter.name: parameter for parameter in RULE_FAMILIES[import_rules]}
    errors = []
    for name in RULE_SET_PARAMETERS:
        value = values.get(name)
        parameter = family.get(name)
        if parameter is None:
            if not _is_empty(value) and name != "de_minimis_includes_freight":
                errors.append(
                    DomainError(
                        f"{ImportRules(import_rules).label} does not use {name}: leave it empty.",
                        code="parameter_not_used",
                        attr=name,
                    )
                )
            continue
        if parameter.kind == FLAG:
            continue
        if _is_empty(value):
            if parameter.required or not _is_empty(values.get(parameter.partner)):
                needed_by = "" if parameter.required else f" when {parameter.partner} is given"
                errors.append(
                    DomainError(
                        f"{ImportRules(import_rules).label} needs {parameter.label} ({name}){needed_by}.",
                        code="missing_parameters",
                        attr=name,
                    )
                )
            continue
        in_currency = values.get(parameter.currency) if parameter.currency else currency
        problem = value_problem(parameter.kind, value, in_currency or "", parameter.zero)
        if problem is None and parameter.at_least:
            floor = _decimal(values.get(parameter.at_least))
            if floor is not None and _decimal(value) < floor:
                problem = f"at least the {family[parameter.at_least].label} ({floor}), not {value}"
        if problem:
            code = "invalid_currency" if parameter.kind == CURRENCY else "invalid_parameter"
            errors.append(DomainError(f"{parameter.label} ({name}) is {problem}.", code=code, attr=name))
    return errors


def rate_row_errors(values, *, currency, path=""):
    """Everything wrong with the figures of a rate row, as DomainErrors whose `attr` is `path` + the field."""
    errors = []
    for parameter in RATE_PARAMETERS:
        value = values.get(parameter.name)
        if parameter.kind == UNIT_PRICES and _is_empty(value):
            continue
        problem = value_problem(parameter.kind, value, currency)
        if problem:
            errors.append(
                DomainError(
                    f"{parameter.label} ({parameter.name}) is {problem}.",
                    code="invalid_rate",
                    attr=f"{path}{parameter.name}",
                )
            )
    return errors
