#!/usr/bin/env python
"""Consolidation: parcels packed into units (LD3 air containers and 20′ containers) by `logistics.packing.pack`
(each unit filled from both ends of the parcels ordered by density), beside a plain first-fit baseline (parcels
in the order they came) and the lower bound ⌈total ÷ capacity⌉, measured in the same run on the same parcels.

    .venv/bin/python bench/consolidation.py            # 1,000, 10,000 and 100,000 parcels, about a minute
    .venv/bin/python bench/consolidation.py --quick    # 1,000 and 10,000

For each: the CPU time of an allocation, the units used against the lower bound, and the average utilisation
of the units in their tighter limit. Parcels are drawn (seeded) as small exporters send them: 0.2 to 40 kg,
densities from foam to books. Figures go in notes, never in test thresholds.
"""

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from logistics.packing import Item, lower_bound, pack  # noqa: E402 (after the path)

UNITS = {"LD3": (Decimal("1588"), Decimal("4.3")), "20GP": (Decimal("28230"), Decimal("33"))}


def parcels(count, seed=7):
    rng = random.Random(seed)
    drawn = []
    for n in range(count):
        weight = Decimal(str(round(rng.uniform(0.2, 40), 1)))
        density = rng.uniform(60, 900)  # kg a m³
        volume = max(Decimal("0.001"), Decimal(str(round(float(weight) / density, 3))))
        drawn.append(Item(n, weight, volume))
    return drawn


def first_fit(items, max_weight, max_volume):
    """The baseline: each parcel, in arrival order, into the first unit with room."""
    room = []  # [weight left, volume left]
    used = 0
    lightest = min(float(item.weight_kg) for item in items)
    smallest = min(float(item.volume_m3) for item in items)
    for item in items:
        weight, volume = float(item.weight_kg), float(item.volume_m3)
        for unit in room:
            if weight <= unit[0] and volume <= unit[1]:
                unit[0] -= weight
                unit[1] -= volume
                break
        else:
            used += 1
            room.append([float(max_weight) - weight, float(max_volume) - volume])
        room = [unit for unit in room if unit[0] >= lightest and unit[1] >= smallest]
    return used


def utilisation(items, used, max_weight, max_volume):
    """The share of the units' capacity used, in the tighter of weight and volume."""
    weight = sum(item.weight_kg for item in items) / (used * max_weight)
    volume = sum(item.volume_m3 for item in items) / (used * max_volume)
    return float(max(weight, volume))


def cpu(work):
    began = time.process_time()
    result = work()
    return result, time.process_time() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 parcels only")
    args = parser.parse_args()
    counts = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    header = (
        f"{'unit':<5} {'parcels':>8} {'bound':>6} {'units':>6} {'cpu s':>6} {'util':>6} "
        f"{'FF units':>8} {'FF cpu s':>8} {'FF util':>7} {'units vs bound':>14}"
    )
    print(f"\nConsolidation benchmark{' (--quick)' if args.quick else ''}: pack beside plain first-fit (FF)")
    print(header)
    print("-" * len(header))
    for name, (max_weight, max_volume) in UNITS.items():
        for count in counts:
            items = parcels(count)
            bound = lower_bound(items, max_weight, max_volume)
            (units, left_over), packed_cpu = cpu(lambda i=items, w=max_weight, v=max_volume: pack(i, w, v))
            assert not left_over
            ff_units, ff_cpu = cpu(lambda i=items, w=max_weight, v=max_volume: first_fit(i, w, v))
            print(
                f"{name:<5} {count:>8,} {bound:>6,} {len(units):>6,} {packed_cpu:>6.3f} "
                f"{utilisation(items, len(units), max_weight, max_volume):>6.1%} {ff_units:>8,} {ff_cpu:>8.3f} "
                f"{utilisation(items, ff_units, max_weight, max_volume):>7.1%} "
                f"{(len(units) - bound) / bound:>+14.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
