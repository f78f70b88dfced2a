"""The starting rule sets of the demo hubs, from the reference facts (duty, tax and refund rules).

Loaded by `seed_demo` as published versions. Figures marked UNVERIFIED are illustrative: they are
data a hub supervisor corrects in a new draft, never constants in code. Rates are fractions.
"""

from datetime import date
from decimal import Decimal as D

from hubs.tariff import Admissibility, ImportRules

UNVERIFIED = "UNVERIFIED: illustrative rate, check the current tariff schedule."

COSMETICS_THRESHOLDS = {"g": "10", "ml": "10", "piece": "15"}

# Rate rows of the China import and export side: (prefix, fields, note).
CHINA_RATES = [
    ("", {"duty_rate": D("0.10"), "vat_rate": D("0.13"), "export_refund_rate": D("0.13")}, f"Default. {UNVERIFIED}"),
    ("0902", {"duty_rate": D("0.15"), "vat_rate": D("0.09"), "export_refund_rate": D("0.09")}, f"Tea. {UNVERIFIED}"),
    ("1509", {"duty_rate": D("0.10"), "vat_rate": D("0.09"), "export_refund_rate": D("0.09")}, "Olive oil: 9% VAT."),
    (
        "2204",
        {"duty_rate": D("0.14"), "vat_rate": D("0.13"), "consumption_tax_rate": D("0.10")},
        "Wine: CT 10%; general-trade duty 14% UNVERIFIED as current.",
    ),
    ("2402", {"cbec_positive_list": False}, "Cigarettes: not on the CBEC positive list."),
    (
        "3304",
        {
            "duty_rate": D("0.05"),
            "vat_rate": D("0.13"),
            "consumption_tax_rate": D("0.15"),
            "consumption_tax_min_unit_price": COSMETICS_THRESHOLDS,
        },
        f"Skin-care cosmetics: CT 15% from CNY 10 per g or ml, 15 per piece. Duty {UNVERIFIED}",
    ),
    ("4202", {"duty_rate": D("0.10"), "vat_rate": D("0.13"), "export_refund_rate": D("0.13")}, f"Bags. {UNVERIFIED}"),
    ("8703", {"cbec_positive_list": False}, "Motor cars: not on the CBEC positive list."),
    ("9302", {"admissibility": Admissibility.PROHIBITED}, "Revolvers and pistols: prohibited."),
    ("3004", {"admissibility": Admissibility.PERMIT_REQUIRED}, "Medicaments: an import permit is required."),
]

# Since 2024-12-01 aluminium and copper products have no export refund.
CHINA_RATES_2024_12 = [
    *CHINA_RATES,
    ("74", {"export_refund_rate": D("0"), "vat_rate": D("0.13"), "duty_rate": D("0.05")}, "Copper: no refund."),
    ("76", {"export_refund_rate": D("0"), "vat_rate": D("0.13"), "duty_rate": D("0.05")}, "Aluminium: no refund."),
]

MALAYSIA_RATES = [
    ("", {"duty_rate": D("0"), "vat_rate": D("0.10")}, f"Default: sales tax 10%. Duty {UNVERIFIED}"),
    ("0902", {"duty_rate": D("0"), "vat_rate": D("0.05")}, f"Tea: sales tax 5%. {UNVERIFIED}"),
    ("2204", {"duty_rate": D("0.15"), "vat_rate": D("0.10"), "de_minimis_excluded": True}, f"Wine. {UNVERIFIED}"),
    ("2402", {"duty_rate": D("0.05"), "vat_rate": D("0.10"), "de_minimis_excluded": True}, f"Tobacco. {UNVERIFIED}"),
    ("3304", {"duty_rate": D("0"), "vat_rate": D("0.10")}, f"Cosmetics. {UNVERIFIED}"),
    ("6109", {"duty_rate": D("0.20"), "vat_rate": D("0.10")}, "T-shirts: duty 20%, illustrative."),
    ("9302", {"admissibility": Admissibility.PROHIBITED}, "Revolvers and pistols: prohibited."),
]

# Lagos: general trade on every consignment (no de minimis), import duty and VAT.
NIGERIA_RATES = [("", {"duty_rate": D("0.20"), "vat_rate": D("0.075")}, f"Default: duty 20%, VAT 7.5%. {UNVERIFIED}")]

CHINA_CBEC_2016 = {"cbec_order_limit": D("2000"), "cbec_annual_limit": D("20000"), "cbec_tax_factor": D("0.7")}
CHINA_CBEC_2019 = {"cbec_order_limit": D("5000"), "cbec_annual_limit": D("26000"), "cbec_tax_factor": D("0.7")}
MARKET_PROCUREMENT = {"market_procurement_cap": D("150000"), "market_procurement_cap_currency": "USD"}
MALAYSIA_DE_MINIMIS = {"de_minimis_threshold": D("500"), "de_minimis_includes_freight": True}

# hub code → published versions in order: (effective from, import rules, parameters, rates, notes)
RULE_SETS = {
    "HGH": [
        (date(2016, 4, 8), ImportRules.CHINA_CBEC, CHINA_CBEC_2016, CHINA_RATES, "CBEC limits CNY 2,000 / 20,000."),
        (date(2019, 1, 1), ImportRules.CHINA_CBEC, CHINA_CBEC_2019, CHINA_RATES, "CBEC limits CNY 5,000 / 26,000."),
        (
            date(2024, 12, 1),
            ImportRules.CHINA_CBEC,
            CHINA_CBEC_2019,
            CHINA_RATES_2024_12,
            "No export refund for aluminium and copper.",
        ),
    ],
    "MYS": [
        (date(2020, 1, 1), ImportRules.MALAYSIA_DFTZ, MALAYSIA_DE_MINIMIS, MALAYSIA_RATES, "De minimis RM 500."),
        (
            date(2024, 1, 1),
            ImportRules.MALAYSIA_DFTZ,
            {**MALAYSIA_DE_MINIMIS, "lvg_rate": D("0.10"), "lvg_threshold": D("500")},
            MALAYSIA_RATES,
            "Low-value goods tax 10% on goods sold online at up to RM 500.",
        ),
    ],
    "LOS": [
        (
            date(2024, 1, 1),
            ImportRules.MALAYSIA_DFTZ,
            {"de_minimis_threshold": D("0")},
            NIGERIA_RATES,
            f"General trade: duty and VAT on every consignment. {UNVERIFIED}",
        ),
    ],
    "YIW": [
        (
            date(2019, 1, 1),
            ImportRules.CHINA_CBEC,
            {**CHINA_CBEC_2019, **MARKET_PROCUREMENT},
            CHINA_RATES,
            "Market procurement (1039): up to USD 150,000 a declaration, VAT exempt, no refund.",
        ),
        (
            date(2024, 12, 1),
            ImportRules.CHINA_CBEC,
            {**CHINA_CBEC_2019, **MARKET_PROCUREMENT},
            CHINA_RATES_2024_12,
            "No export refund for aluminium and copper.",
        ),
    ],
}
