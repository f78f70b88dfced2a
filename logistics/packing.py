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
_TINY = Decimal("1e-9")  # a volume no parcel has: the density of a flat one stays finite


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


class _Load:
    """A unit being filled: its items and their totals, against the unit's limits."""

    def __init__(self, max_weight_kg: Decimal, max_volume_m3: Decimal):
        self.max_weight_kg, self.max_volume_m3 = max_weight_kg, max_volume_m3
        self.items: list[Item] = []
        self.weight_kg, self.volume_m3 = Decimal(0), Decimal(0)

    def fits(self, item: Item) -> bool:
        return (
            self.weight_kg + item.weight_kg <= self.max_weight_kg
            and self.volume_m3 + item.volume_m3 <= self.max_volume_m3
        )

    def add(self, item: Item) -> None:
        self.items.append(item)
        self.weight_kg += item.weight_kg
        self.volume_m3 += item.volume_m3

    @property
    def fuller_by_weight(self) -> bool:
        return self.weight_kg * self.max_volume_m3 >= self.volume_m3 * self.max_weight_kg


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
    empty = _Load(max_weight_kg, max_volume_m3)
    too_big = [item for item in items if not empty.fits(item)]
    by_density = deque(
        sorted(
            (item for item in items if empty.fits(item)),
            key=lambda item: item.weight_kg * max_volume_m3 / max(item.volume_m3 * max_weight_kg, _TINY),
        )
    )
    loads: list[_Load] = []
    while by_density and (max_units is None or len(loads) < max_units):
        load = _Load(max_weight_kg, max_volume_m3)
        while by_density:
            light_first = ((by_density.popleft, 0), (by_density.pop, -1))
            takes = light_first if load.fuller_by_weight else light_first[::-1]
            taken = next((take for take, end in takes if load.fits(by_density[end])), None)
            if taken is None:
                break  # neither end fits: this unit is full
            load.add(taken())
        loads.append(load)
    left_over = []
    for item in by_density:
        room = next((load for load in loads if load.fits(item)), None)
        if room is None:
            left_over.append(item)
        else:
            room.add(item)
    return [load.items for load in loads], too_big + left_over
