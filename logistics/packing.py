"""Consolidation's arithmetic, free of the database: a parcel's chargeable weight, and parcels packed into units
(an air ULD, a container) that each hold at most a weight and a volume.

Parcels are small beside a unit, so a unit is full when it reaches either limit; what wastes units is filling one
by weight and leaving its volume empty (or the reverse). `pack` fills each unit with dense and light parcels
together so that it reaches both limits at once; the tests hold it to first-fit decreasing's bound (11/9 of the
fewest units plus one, Dósa 2007) and bench/consolidation.py measures it against the lower bound.
"""

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

CM3_PER_M3 = Decimal(1_000_000)


def volume_m3(length_cm: Decimal, width_cm: Decimal, height_cm: Decimal) -> Decimal:
    return length_cm * width_cm * height_cm / CM3_PER_M3


def chargeable_weight(
    weight_kg: Decimal,
    length_cm: Decimal,
    width_cm: Decimal,
    height_cm: Decimal,
    *,
    divisor_cm3_per_kg: Decimal,
    step_kg: Decimal,
) -> Decimal:
    """The greater of the actual weight and the volumetric one (cm³ ÷ the mode's divisor), rounded up to the
    mode's step: a 30×45×65 cm carton of 14 kg by air (÷6,000) is 14.625 kg volumetric, charged at 15 kg."""
    volumetric = length_cm * width_cm * height_cm / divisor_cm3_per_kg
    heavier = max(weight_kg, volumetric)
    return (heavier / step_kg).to_integral_value(rounding=ROUND_CEILING) * step_kg


@dataclass(frozen=True)
class Item:
    """What packing needs of a parcel: its key, actual weight and volume."""

    key: object
    weight_kg: Decimal
    volume_m3: Decimal


def lower_bound(items: Sequence[Item], max_weight_kg: Decimal, max_volume_m3: Decimal) -> int:
    """The fewest units that could hold `items`: ⌈total ÷ capacity⌉ in the tighter of weight and volume."""
    if not items:
        return 0
    weight = sum(item.weight_kg for item in items)
    volume = sum(item.volume_m3 for item in items)
    return max(math.ceil(weight / max_weight_kg), math.ceil(volume / max_volume_m3))


def pack(
    items: Sequence[Item], max_weight_kg: Decimal, max_volume_m3: Decimal, max_units: int | None = None
) -> tuple[list[list[Item]], list[Item]]:
    """`items` packed into units of at most `max_weight_kg` and `max_volume_m3`, at most `max_units` of them:
    (the units' items, the items left over: over a unit's limits, or with no room left).

    Units are filled one at a time, each from both ends of the parcels ordered by density: from the light end
    while the unit is fuller by weight than by volume, from the dense end otherwise, so that a unit reaches both
    limits together instead of wasting its volume on books or its weight on foam. When neither end fits, the
    unit is closed; what is left at the end goes, first fit, into any unit with room.
    """
    too_big = [item for item in items if item.weight_kg > max_weight_kg or item.volume_m3 > max_volume_m3]
    by_density = deque(
        sorted(
            (item for item in items if item.weight_kg <= max_weight_kg and item.volume_m3 <= max_volume_m3),
            key=lambda item: item.weight_kg * max_volume_m3 / max(item.volume_m3 * max_weight_kg, _TINY),
        )
    )
    units: list[list[Item]] = []
    loads: list[list[Decimal]] = []  # each unit's [weight, volume]
    while by_density and (max_units is None or len(units) < max_units):
        unit, load = [], [Decimal(0), Decimal(0)]
        while by_density:
            fuller_by_weight = load[0] * max_volume_m3 >= load[1] * max_weight_kg
            ends = (by_density.popleft, by_density.pop) if fuller_by_weight else (by_density.pop, by_density.popleft)
            peeks = (0, -1) if fuller_by_weight else (-1, 0)
            for take, peek in zip(ends, peeks, strict=True):
                item = by_density[peek]
                if load[0] + item.weight_kg <= max_weight_kg and load[1] + item.volume_m3 <= max_volume_m3:
                    unit.append(take())
                    load[0] += item.weight_kg
                    load[1] += item.volume_m3
                    break
            else:
                break  # neither end fits: this unit is full
        units.append(unit)
        loads.append(load)
    left_over = []
    for item in by_density:
        for unit, load in zip(units, loads, strict=True):
            if load[0] + item.weight_kg <= max_weight_kg and load[1] + item.volume_m3 <= max_volume_m3:
                unit.append(item)
                load[0] += item.weight_kg
                load[1] += item.volume_m3
                break
        else:
            left_over.append(item)
    return units, too_big + left_over


_TINY = Decimal("1e-9")
