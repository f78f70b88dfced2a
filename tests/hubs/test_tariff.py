"""The tariff calculator against the published reference rule sets: every worked example of the duty rules."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubs.kernel.errors import DomainError
from hubs.selectors import rule_set_in_force
from hubs.services import rule_sets_load_reference
from hubs.tariff import (
    Basket,
    BasketLine,
    ExportRegime,
    Measure,
    Regime,
    TaxKind,
    assess,
    assess_export,
    export_vat_refund,
    market_procurement_split,
)
from tests.factories import HubFactory

IN_2026 = date(2026, 6, 1)
BEFORE_2019 = date(2018, 6, 1)


def D(value):
    return Decimal(value)


@pytest.fixture
def reference_hubs(db):
    """HGH, MYS and YIW with their reference rule sets published."""
    hubs = {
        "HGH": HubFactory(code="HGH", country="CN", currency="CNY", timezone="Asia/Shanghai"),
        "MYS": HubFactory(code="MYS", country="MY", currency="MYR", timezone="Asia/Kuala_Lumpur"),
        "YIW": HubFactory(code="YIW", country="CN", currency="CNY", timezone="Asia/Shanghai"),
    }
    for hub in hubs.values():
        rule_sets_load_reference(hub=hub)
    return hubs


@pytest.fixture
def hgh_rules(reference_hubs):
    return rule_set_in_force(reference_hubs["HGH"], IN_2026).as_rules()


@pytest.fixture
def mys_rules(reference_hubs):
    return rule_set_in_force(reference_hubs["MYS"], IN_2026).as_rules()


@pytest.fixture
def yiw_rule_set(reference_hubs):
    return rule_set_in_force(reference_hubs["YIW"], IN_2026)


def basket(*lines, currency="CNY", freight="0", insurance="0"):
    return Basket(currency=currency, lines=tuple(lines), freight=D(freight), insurance=D(insurance))


def item(hs_code, unit_price, quantity=1, measure=None):
    return BasketLine(
        hs_code=hs_code, quantity=quantity, unit_price=D(unit_price), measure=measure or Measure(D(1), "piece")
    )


def tax_of(line_assessment, kind):
    """The one tax of `kind` on an assessed line."""
    (tax,) = [tax for tax in line_assessment.taxes if tax.kind == kind]
    return tax


def assess_refused(basket_, rules, **kwargs):
    with pytest.raises(DomainError) as refusal:
        assess(basket_, rules, **kwargs)
    return refusal.value


# --- The reference rule sets in force ---


def test_the_reference_versions_in_force_in_2026_are_the_latest_of_each_hub(hgh_rules, mys_rules, yiw_rule_set):
    assert (hgh_rules.hub, hgh_rules.version, hgh_rules.currency) == ("HGH", 3, "CNY")
    assert (mys_rules.hub, mys_rules.version, mys_rules.currency) == ("MYS", 2, "MYR")
    assert (yiw_rule_set.hub.code, yiw_rule_set.version) == ("YIW", 2)
    assert hgh_rules.cbec_order_limit == D("5000")
    assert hgh_rules.cbec_annual_limit == D("26000")


# --- Worked example 1: CBEC, ordinary good ---


def test_example_1_a_cbec_handbag_pays_70_percent_of_the_13_percent_vat_and_no_duty(hgh_rules):
    # given a CNY 500 handbag (HS 4202)
    order = basket(item("420221", "500"))

    # when it is assessed at Hangzhou
    assessment = assess(order, hgh_rules)

    # then it is a CBEC retail import: VAT 500 × 13% × 0.7 = 45.50, duty 0
    assert assessment.regime == Regime.CBEC_RETAIL
    (line,) = assessment.lines
    vat = tax_of(line, TaxKind.VAT)
    assert vat.amount == D("45.50")
    assert vat.base == D("500.00")
    assert "× 13% × 0.7 = 45.50" in vat.explanation
    assert tax_of(line, TaxKind.DUTY).amount == D("0.00")
    assert assessment.duties_and_taxes == D("45.50")
    assert assessment.total == D("545.50")
    assert assessment.quota_counted == D("500")


# --- Worked example 2: CBEC, olive oil at the reduced VAT rate ---


def test_example_2_cbec_olive_oil_pays_70_percent_of_the_9_percent_vat(hgh_rules):
    assessment = assess(basket(item("150910", "200")), hgh_rules)

    assert assessment.regime == Regime.CBEC_RETAIL
    vat = tax_of(assessment.lines[0], TaxKind.VAT)
    assert vat.amount == D("12.60")
    assert "× 9% × 0.7 = 12.60" in vat.explanation
    assert assessment.duties_and_taxes == D("12.60")


# --- Worked example 3: CBEC wine with consumption tax ---


def test_example_3_cbec_wine_pays_consumption_tax_on_the_grossed_up_base_then_vat_on_top(hgh_rules):
    # given CNY 1,000 of wine (HS 2204: CT 10%, VAT 13%)
    order = basket(item("220421", "1000"))

    # when it is assessed as a CBEC retail import
    assessment = assess(order, hgh_rules)

    # then CT base 1,111.11, CT 77.78, VAT 101.11, total taxes 178.89
    assert assessment.regime == Regime.CBEC_RETAIL
    (line,) = assessment.lines
    ct = tax_of(line, TaxKind.CONSUMPTION_TAX)
    vat = tax_of(line, TaxKind.VAT)
    assert ct.base == D("1111.11")
    assert ct.amount == D("77.78")
    assert "/ (1 − 10%) = 1111.11" in ct.explanation
    assert "1111.11 × 10% × 0.7 = 77.78" in ct.explanation
    assert vat.amount == D("101.11")
    assert "× 13% × 0.7 = 101.11" in vat.explanation
    assert tax_of(line, TaxKind.DUTY).amount == D("0.00")
    assert assessment.duties_and_taxes == D("178.89")
    assert assessment.total == D("1178.89")


# --- Worked example 4: the same wine as general trade ---


def test_example_4_wine_past_the_annual_limit_is_taxed_in_full_as_general_trade(hgh_rules):
    # given the same CNY 1,000 of wine for a consumer who has used CNY 25,500 of the year
    order = basket(item("220421", "1000"))

    # when it is assessed
    assessment = assess(order, hgh_rules, consumer_year_usage=D("25500"))

    # then it is general trade: duty 140.00, CT 126.67, VAT 164.67, total 431.34, nothing counted to the quota
    assert assessment.regime == Regime.GENERAL_TRADE
    (line,) = assessment.lines
    duty = tax_of(line, TaxKind.DUTY)
    ct = tax_of(line, TaxKind.CONSUMPTION_TAX)
    vat = tax_of(line, TaxKind.VAT)
    assert duty.amount == D("140.00")
    assert duty.explanation == "1000.00 × 14% = 140.00"
    assert ct.amount == D("126.67")
    assert "(1000.00 + duty 140.00) / (1 − 10%) = 1266.67" in ct.explanation
    assert ct.explanation.endswith("1266.67 × 10% = 126.67")
    assert vat.amount == D("164.67")
    assert "× 13% = 164.67" in vat.explanation
    assert "× 0.7" not in vat.explanation
    assert assessment.duties_and_taxes == D("431.34")
    assert assessment.total == D("1431.34")
    assert assessment.quota_counted == D("0")
    assert "does not fit in the consumer's annual limit of 26000" in assessment.explanation


# --- Worked example 5: trading-company export refund ---


def test_example_5_a_trading_company_export_refund_is_the_net_invoice_times_the_refund_rate(hgh_rules):
    # given the HGH rate row of bags (4202): VAT 13%, refund 13%
    bags = hgh_rules.rate_for("420221")
    assert bags.hs_prefix == "4202"

    # when a gross invoice of CNY 113,000 is exported
    amount, explanation = export_vat_refund(
        D("113000"), vat_rate=bags.vat_rate, refund_rate=bags.export_refund_rate, currency="CNY"
    )

    # then 113,000 / 1.13 × 13% = 13,000.00 is refunded
    assert amount == D("13000.00")
    assert explanation == "113000 / (1 + 13%) × 13% = 13000.00"


def test_example_5_through_the_export_assessment_of_a_basket(hgh_rules):
    export = assess_export(basket(item("420221", "113000")), hgh_rules)
    assert export.regime == ExportRegime.CBEC_EXPORT
    assert export.refund == D("13000.00")
    assert "113000.00 / (1 + 13%) × 13% = 13000.00" in export.explanation


def test_exports_from_malaysia_refund_nothing(mys_rules):
    export = assess_export(
        basket(
            item(
                "610910",
                "480",
            ),
            currency="MYR",
        ),
        mys_rules,
    )
    assert (export.regime, export.refund) == (ExportRegime.EXEMPT, D("0"))


# --- Worked example 6: Malaysia low-value goods ---


def test_example_6_a_malaysian_lvg_garment_pays_10_percent_of_the_goods_but_not_of_the_shipping(mys_rules):
    # given a RM 480 T-shirt shipped for RM 20 (CIF 500, at the de minimis threshold)
    order = basket(item("610910", "480"), currency="MYR", freight="20")

    # when it is assessed at the Malaysian hub
    assessment = assess(order, mys_rules)

    # then the LVG tax is 480 × 10% = 48.00 and no duty or sales tax is due
    assert assessment.regime == Regime.LOW_VALUE_GOODS
    (line,) = assessment.lines
    assert [tax.kind for tax in line.taxes] == [TaxKind.LVG_TAX]
    lvg = tax_of(line, TaxKind.LVG_TAX)
    assert lvg.base == D("480.00")
    assert lvg.amount == D("48.00")
    assert lvg.explanation == "480.00 × 10% = 48.00"
    assert assessment.duties_and_taxes == D("48.00")
    assert assessment.total == D("548.00")
    assert assessment.quota_counted == D("0")


# --- Worked example 7: Malaysia import over RM 500 ---


def test_example_7_a_malaysian_import_over_rm_500_pays_duty_on_cif_and_sales_tax_on_cif_plus_duty(mys_rules):
    # given a garment consignment of CIF RM 2,000 (goods 1,900 + freight 80 + insurance 20)
    order = basket(item("610910", "950", quantity=2), currency="MYR", freight="80", insurance="20")

    # when it is assessed
    assessment = assess(order, mys_rules)

    # then duty 20% = 400.00, sales tax (2,000 + 400) × 10% = 240.00, total 640.00
    assert assessment.regime == Regime.GENERAL_TRADE
    (line,) = assessment.lines
    duty = tax_of(line, TaxKind.DUTY)
    sales_tax = tax_of(line, TaxKind.SALES_TAX)
    assert duty.base == D("2000.00")
    assert duty.amount == D("400.00")
    assert duty.explanation == "CIF 2000.00 × 20% = 400.00"
    assert sales_tax.base == D("2400.00")
    assert sales_tax.amount == D("240.00")
    assert sales_tax.explanation == "(CIF 2000.00 + duty 400.00) × 10% = 240.00"
    assert assessment.duties_and_taxes == D("640.00")
    assert assessment.total == D("2640.00")


def test_example_7_air_freight_that_takes_the_consignment_past_rm_500_loses_de_minimis(mys_rules):
    # given RM 480 of goods with RM 30 of air freight: CIF 510 > 500
    order = basket(item("610910", "480"), currency="MYR", freight="30")

    # when it is assessed
    assessment = assess(order, mys_rules)

    # then it is general trade, with duty and sales tax on the whole CIF value
    assert assessment.regime == Regime.GENERAL_TRADE
    assert "consignment 510.00 above de minimis" in assessment.explanation
    (line,) = assessment.lines
    assert tax_of(line, TaxKind.DUTY).amount == D("102.00")
    assert tax_of(line, TaxKind.SALES_TAX).amount == D("61.20")
    assert not [tax for tax in line.taxes if tax.kind == TaxKind.LVG_TAX]
    assert assessment.duties_and_taxes == D("163.20")


# --- Worked example 8: Yiwu market procurement ---


def test_example_8_a_usd_180000_yiwu_shipment_needs_two_market_procurement_declarations(yiw_rule_set):
    # given the cap of one market-procurement declaration in the YIW rule set in force
    cap = yiw_rule_set.market_procurement_cap
    assert (cap, yiw_rule_set.market_procurement_cap_currency) == (D("150000"), "USD")

    # when a USD 180,000 shipment (1,000 toys at USD 180) is declared, then it needs 2 declarations; at the cap,
    # one is enough
    assert market_procurement_split([item("950300", "180", 1000)], cap=cap) == (((0, 833),), ((0, 167),))
    assert market_procurement_split([item("950300", "150", 1000)], cap=cap) == (((0, 1000),),)

    # and through the export assessment, in CNY at USD 1 = CNY 7.1 (the caller converts basket and cap):
    # VAT exempt, no refund, 2 declarations
    shipment = basket(item("950300", str(D("180") * D("7.1")), 1000))
    rules = replace(
        yiw_rule_set.as_rules(), market_procurement_cap=cap * D("7.1"), market_procurement_cap_currency="CNY"
    )
    export = assess_export(shipment, rules, regime=ExportRegime.MARKET_PROCUREMENT)
    assert (export.regime, export.refund, export.declarations) == (ExportRegime.MARKET_PROCUREMENT, D("0"), 2)
    assert export.parts == (((0, 833),), ((0, 167),))

    # a single unit worth more than a declaration holds cannot be market procurement
    with pytest.raises(DomainError) as refusal:
        market_procurement_split([item("950300", "150000.01")], cap=cap)
    assert (refusal.value.code, refusal.value.attr) == ("over_declaration_cap", "lines.0")

    # a basket in another currency than the rules' is refused: converting is the caller's work
    with pytest.raises(DomainError) as refusal:
        assess_export(basket(item("950300", "180000"), currency="USD"), yiw_rule_set.as_rules())
    assert refusal.value.code == "wrong_currency"


# --- Cosmetics: the consumption tax applies only from a price per gram ---


def test_cosmetics_at_21_25_per_gram_pay_the_15_percent_consumption_tax(hgh_rules):
    # given a 20 g skin cream at CNY 425 (CNY 21.25 per g, above the CNY 10 threshold)
    order = basket(item("330499", "425", measure=Measure(D(20), "g")))

    # when it is assessed
    assessment = assess(order, hgh_rules)

    # then CT 15% applies: base 425 / 0.85 = 500.00, CT 500 × 15% × 0.7 = 52.50, VAT 500 × 13% × 0.7 = 45.50
    ct = tax_of(assessment.lines[0], TaxKind.CONSUMPTION_TAX)
    assert ct.rate == D("0.15")
    assert ct.base == D("500.00")
    assert ct.amount == D("52.50")
    assert "500.00 × 15% × 0.7 = 52.50" in ct.explanation
    assert tax_of(assessment.lines[0], TaxKind.VAT).amount == D("45.50")


def test_cosmetics_at_7_50_per_gram_pay_no_consumption_tax(hgh_rules):
    # given a 20 g skin cream at CNY 150 (CNY 7.50 per g, below the threshold)
    order = basket(item("330499", "150", measure=Measure(D(20), "g")))

    # when it is assessed
    assessment = assess(order, hgh_rules)

    # then no consumption tax is due, and the explanation says why; VAT 150 × 13% × 0.7 = 13.65
    ct = tax_of(assessment.lines[0], TaxKind.CONSUMPTION_TAX)
    assert ct.rate == D("0")
    assert ct.amount == D("0.00")
    assert "below the threshold" in ct.explanation
    assert tax_of(assessment.lines[0], TaxKind.VAT).amount == D("13.65")
    assert assessment.duties_and_taxes == D("13.65")


# --- The CBEC limits and the version in force ---


def test_before_2019_a_cny_3000_basket_of_two_items_is_over_the_2000_order_limit(reference_hubs):
    # given the HGH rule set in force in mid-2018 and a CNY 3,000 basket of two handbags
    rules_2018 = rule_set_in_force(reference_hubs["HGH"], BEFORE_2019).as_rules()
    order = basket(item("420221", "1500", quantity=2))

    # when it is assessed, then it is no CBEC import: general trade, not counted toward the year
    assert (rules_2018.version, rules_2018.cbec_order_limit) == (1, D("2000"))
    assessment = assess(order, rules_2018)
    assert (assessment.regime, assessment.quota_counted) == (Regime.GENERAL_TRADE, 0)
    assert "over the CBEC order limit of 2000" in assessment.explanation


def test_since_2019_the_same_cny_3000_basket_is_a_cbec_retail_import(reference_hubs):
    rules_2019 = rule_set_in_force(reference_hubs["HGH"], date(2019, 6, 1)).as_rules()
    order = basket(item("420221", "1500", quantity=2))

    assessment = assess(order, rules_2019)

    assert rules_2019.version == 2
    assert assessment.regime == Regime.CBEC_RETAIL
    assert assessment.quota_counted == D("3000")
    assert assessment.duties_and_taxes == D("273.00")  # 3,000 × 13% × 0.7


def test_one_indivisible_item_over_5000_with_room_in_the_year_is_general_trade_and_counts_toward_the_quota(
    hgh_rules,
):
    # given one CNY 6,000 handbag and a consumer with CNY 1,000 used this year
    order = basket(item("420221", "6000"))

    # when it is assessed
    assessment = assess(order, hgh_rules, consumer_year_usage=D("1000"))

    # then it is taxed in full (duty 10%, VAT 13%) and its value counts toward the annual limit
    assert assessment.regime == Regime.GENERAL_TRADE
    assert assessment.quota_counted == D("6000")
    (line,) = assessment.lines
    assert tax_of(line, TaxKind.DUTY).amount == D("600.00")
    assert tax_of(line, TaxKind.VAT).amount == D("858.00")  # (6,000 + 600) × 13%
    assert "indivisible item" in assessment.explanation


@pytest.mark.parametrize("quantity", [2, 11, 99_999])
def test_several_items_over_5000_are_general_trade_whether_or_not_the_year_has_room(hgh_rules, quantity):
    # given handbags over the CNY 5,000 order limit: 6,000 within the year, 5,500, or 299,997 far past it
    order = basket(item("420221", "3000" if quantity == 2 else "500", quantity=quantity))

    # when they are assessed, then they are alike: general trade, taxed in full, not counted toward the year
    assessment = assess(order, hgh_rules)
    assert (assessment.regime, assessment.quota_counted) == (Regime.GENERAL_TRADE, 0)
    (line,) = assessment.lines
    assert tax_of(line, TaxKind.DUTY).rate == D("0.10")


def test_a_basket_that_takes_the_year_past_26000_is_general_trade_and_not_counted(hgh_rules):
    # given a consumer with CNY 25,000 used and a CNY 2,000 basket of two handbags
    order = basket(item("420221", "1000", quantity=2))

    # when it is assessed
    assessment = assess(order, hgh_rules, consumer_year_usage=D("25000"))

    # then it is taxed in full as general trade and nothing is counted toward the quota
    assert assessment.regime == Regime.GENERAL_TRADE
    assert assessment.quota_counted == D("0")
    assert tax_of(assessment.lines[0], TaxKind.DUTY).amount == D("200.00")
    assert tax_of(assessment.lines[0], TaxKind.VAT).amount == D("286.00")


def test_a_basket_that_just_fills_the_year_is_still_cbec_retail(hgh_rules):
    assessment = assess(basket(item("420221", "1000")), hgh_rules, consumer_year_usage=D("25000"))

    assert assessment.regime == Regime.CBEC_RETAIL
    assert assessment.quota_counted == D("1000")


# --- Refusals ---


@pytest.mark.parametrize(
    ("hs_code", "code"),
    [
        ("870323", "not_on_positive_list"),
        ("240220", "not_on_positive_list"),
        ("930200", "prohibited"),
        ("300490", "permit_required"),
    ],
)
def test_goods_that_may_not_pass_cbec_are_refused_with_the_reason(hgh_rules, hs_code, code):
    # given a basket with an admissible handbag and an inadmissible second line
    order = basket(item("420221", "100"), item(hs_code, "100"))

    # when it is assessed, then it is refused with the reason, pointing at the line
    refusal = assess_refused(order, hgh_rules)
    assert refusal.code == code
    assert refusal.attr == "lines.1"
    assert hs_code in refusal.detail


def test_wine_into_malaysia_is_general_trade_even_under_rm_500_because_liquor_is_excluded_from_de_minimis(mys_rules):
    # given RM 100 of wine
    order = basket(item("220421", "100"), currency="MYR")

    # when it is assessed at MYS
    assessment = assess(order, mys_rules)

    # then de minimis does not apply: duty 15% and sales tax 10% are due
    assert assessment.regime == Regime.GENERAL_TRADE
    assert "excluded from de minimis" in assessment.explanation
    (line,) = assessment.lines
    assert tax_of(line, TaxKind.DUTY).amount == D("15.00")
    assert tax_of(line, TaxKind.SALES_TAX).amount == D("11.50")


def test_a_basket_in_ringgit_is_refused_at_hangzhou(hgh_rules):
    refusal = assess_refused(basket(item("420221", "100"), currency="MYR"), hgh_rules)

    assert refusal.code == "wrong_currency"
    assert refusal.attr == "currency"


# --- Freight and insurance ---


def test_freight_and_insurance_are_split_over_the_lines_by_value_and_the_shares_add_up_exactly(hgh_rules):
    # given three lines worth 100, 200 and 300 with freight 10.00 and insurance 0.01
    order = basket(
        item("420221", "100"), item("150910", "100", quantity=2), item("090210", "300"), freight="10", insurance="0.01"
    )

    # when it is assessed
    assessment = assess(order, hgh_rules)

    # then each line carries its share of the 10.01 by value, rounded, and the last takes the remainder
    shares = [line.freight_share for line in assessment.lines]
    assert shares == [D("1.67"), D("3.34"), D("5.00")]
    assert sum(shares) == D("10.01")
    # and the taxable value of each line is its goods plus its share
    assert tax_of(assessment.lines[0], TaxKind.VAT).base == D("101.67")
    assert assessment.goods == D("600.00")
    assert assessment.total == assessment.goods + D("10.01") + assessment.duties_and_taxes


@given(
    st.lists(
        st.tuples(st.decimals("0", "150000", places=2), st.integers(1, 5000)),
        min_size=1,
        max_size=6,
    )
)
def test_a_market_procurement_split_declares_every_unit_once_and_no_declaration_over_the_cap(lines):
    cap = D("150000")
    basket_lines = [item("950300", str(price), quantity) for price, quantity in lines]
    parts = market_procurement_split(basket_lines, cap=cap)
    declared = [0] * len(lines)
    for part in parts:
        assert part, "an empty declaration"
        assert sum(basket_lines[index].unit_price * units for index, units in part) <= cap
        for index, units in part:
            declared[index] += units
    assert declared == [quantity for _, quantity in lines]
    # only whole units stop a declaration short: none could take the next declaration's first units
    for part, following in zip(parts, parts[1:], strict=False):
        index, _ = following[0]
        room = cap - sum(basket_lines[i].unit_price * units for i, units in part)
        assert basket_lines[index].unit_price > room
