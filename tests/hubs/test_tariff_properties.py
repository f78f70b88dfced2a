"""Properties of the pure tariff calculator over generated baskets, with the reference rules and no database."""

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubs.kernel.errors import DomainError
from hubs.rule_data import CHINA_CBEC_2019, CHINA_RATES, MALAYSIA_RATES, RULE_SETS
from hubs.tariff import Basket, BasketLine, ImportRules, Measure, RateRule, Rules, assess

CENT = Decimal("0.01")
ZERO = Decimal(0)

HGH_RULES = Rules(
    hub="HGH",
    version=2,
    currency="CNY",
    import_rules=ImportRules.CHINA_CBEC,
    rates=tuple(RateRule(prefix, **fields) for prefix, fields, _ in CHINA_RATES),
    **CHINA_CBEC_2019,
)
_, _, MYS_2024_PARAMS, _, _ = RULE_SETS["MYS"][-1]
MYS_RULES = Rules(
    hub="MYS",
    version=2,
    currency="MYR",
    import_rules=ImportRules.MALAYSIA_DFTZ,
    rates=tuple(RateRule(prefix, **fields) for prefix, fields, _ in MALAYSIA_RATES),
    **MYS_2024_PARAMS,
)
RULES = {"CNY": HGH_RULES, "MYR": MYS_RULES}

# Goods every hub admits: handbag, olive oil, wine, cosmetics, tea, T-shirt, toys.
ADMISSIBLE_HS_CODES = ["420221", "150910", "220421", "330499", "090210", "610910", "950300"]


def money(low, high):
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2)


measures = st.builds(
    Measure,
    quantity=st.integers(min_value=1, max_value=1000).map(Decimal),
    unit=st.sampled_from(["g", "ml", "piece"]),
)
basket_lines = st.builds(
    BasketLine,
    hs_code=st.sampled_from(ADMISSIBLE_HS_CODES),
    quantity=st.integers(min_value=1, max_value=5),
    # Mostly small prices, so that many Chinese baskets stay within the CBEC order limit.
    unit_price=st.one_of(money("0.01", "300"), money("0.01", "3000")),
    measure=measures,
)


@st.composite
def baskets(draw):
    currency = draw(st.sampled_from(sorted(RULES)))
    return Basket(
        currency=currency,
        lines=tuple(draw(st.lists(basket_lines, min_size=1, max_size=8))),
        freight=draw(money("0", "200")),
        insurance=draw(money("0", "200")),
    )


year_usages = st.one_of(st.just(ZERO), money("0", "30000"))

# Seven lines of CNY 1.00 and one of CNY 0.01 with CNY 0.04 freight: each of the seven rounds its share
# 0.04 × 1 / 7.01 = 0.0057 up to 0.01, and the last line is left with 0.04 − 0.07 = −0.03.
TINY_LAST_LINE = Basket(
    currency="CNY",
    lines=(*[BasketLine("420221", 1, Decimal("1.00"))] * 7, BasketLine("420221", 1, Decimal("0.01"))),
    freight=Decimal("0.04"),
)


def assessed(basket, usage):
    """The assessment of `basket` at its hub, or None where the hub refuses it (e.g. over the order limit)."""
    try:
        return assess(basket, RULES[basket.currency], consumer_year_usage=usage)
    except DomainError as refusal:
        if refusal.code != "over_order_limit":
            raise
        return None


def all_taxes(assessment):
    return [tax for line in assessment.lines for tax in line.taxes]


def has_cents_at_most(amount):
    return amount == amount.quantize(CENT)


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_no_tax_is_ever_negative(basket, usage):
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    assert all(tax.amount >= 0 for tax in all_taxes(assessment))
    assert assessment.duties_and_taxes >= 0


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_every_amount_is_in_whole_cents(basket, usage):
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    amounts = [
        assessment.goods,
        assessment.freight,
        assessment.insurance,
        assessment.duties_and_taxes,
        assessment.total,
        assessment.quota_counted,
    ]
    for line in assessment.lines:
        amounts += [line.value, line.freight_share]
        amounts += [amount for tax in line.taxes for amount in (tax.amount, tax.base)]
    assert all(has_cents_at_most(amount) for amount in amounts), amounts


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_duties_and_taxes_are_the_sum_of_the_line_taxes(basket, usage):
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    assert assessment.duties_and_taxes == sum((tax.amount for tax in all_taxes(assessment)), ZERO)


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_the_total_is_goods_plus_freight_plus_insurance_plus_duties_and_taxes(basket, usage):
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    assert assessment.total == (
        assessment.goods + assessment.freight + assessment.insurance + assessment.duties_and_taxes
    )
    assert (assessment.freight, assessment.insurance) == (basket.freight, basket.insurance)


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_goods_are_the_sum_of_the_line_values_of_quantity_times_unit_price(basket, usage):
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    for assessed_line, line in zip(assessment.lines, basket.lines, strict=True):
        assert assessed_line.value == line.quantity * line.unit_price
    assert assessment.goods == sum((line.value for line in assessment.lines), ZERO)


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_the_freight_shares_add_up_exactly_to_freight_plus_insurance(basket, usage):
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    shares = sum((line.freight_share for line in assessment.lines), ZERO)
    assert shares == basket.freight + basket.insurance


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
@example(basket=TINY_LAST_LINE, usage=ZERO)
def test_no_line_carries_a_negative_share_of_the_freight(basket, usage):
    # Freight is split in proportion to value: a share lies between nothing and the whole of it.
    assessment = assessed(basket, usage)
    if assessment is None:
        return
    extra = basket.freight + basket.insurance
    shares = [line.freight_share for line in assessment.lines]
    assert all(ZERO <= share <= extra for share in shares), shares


@settings(max_examples=200, deadline=None)
@given(basket=baskets(), usage=year_usages)
def test_the_assessment_is_deterministic(basket, usage):
    first = assessed(basket, usage)
    second = assessed(basket, usage)
    assert first == second
