"""The reference facts (settlement-logistics-customs §2.1) as data: transport modes' volumetric divisors and
units' limits, loaded by a migration and edited in the console after."""

from decimal import Decimal

MODES = [
    ("air", Decimal(6000), Decimal("0.5"), "IATA 6,000 cm³/kg; rounding up to 0.5 kg UNVERIFIED"),
    ("courier", Decimal(5000), Decimal("0.5"), "Couriers ÷5,000 (some ÷4,000); rounding up to 0.5 kg UNVERIFIED"),
    ("sea", Decimal(1000), Decimal(1), "Sea LCL: 1 t = 1 m³"),
]
UNITS = [
    ("LD3", "LD3/AKE air container", "air", Decimal(1588), Decimal("4.3"), "unioncargo.pl"),
    ("PMC", "PMC/P6P pallet, lower-deck contour", "air", Decimal(6804), Decimal("11.4"), "supath.net; 304×230×163 cm"),
    ("20GP", "20′ dry container", "sea", Decimal(28230), Decimal(33), "worldshipping.org; DSV"),
    ("40GP", "40′ dry container", "sea", Decimal(26700), Decimal(67), "worldshipping.org"),
    ("40HC", "40′ high cube container", "sea", Decimal(26620), Decimal(76), "zuomama.com"),
]


def load_reference_units(ModeRule, UnitType) -> None:  # noqa: N803 (the models, historical in a migration)
    """Create or bring back the reference modes and units (an edited one keeps its edits)."""
    for mode, divisor, step, source in MODES:
        ModeRule.objects.get_or_create(
            mode=mode, defaults={"volumetric_divisor": divisor, "step_kg": step, "source": source}
        )
    for code, name, mode, weight, volume, source in UNITS:
        UnitType.objects.get_or_create(
            code=code,
            defaults={"name": name, "mode": mode, "max_weight_kg": weight, "max_volume_m3": volume, "source": source},
        )
