"""The HS 2022 nomenclature shipped in `hubs/data/hs/`, loaded into the `HSCode` table."""

import csv
from pathlib import Path

HS_CSV = Path(__file__).resolve().parent / "data" / "hs" / "harmonized-system-2022.csv"


def load_hs_nomenclature(hs_code_model):
    """Load the chapters, headings and subheadings, parents before children.

    UN Comtrade's statistical rows (section `TOTAL`: codes 99, 9999, 999999 and the grand total)
    are not goods codes and are left out. Takes the model, so that a migration can pass its own.
    """
    with HS_CSV.open(newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["section"] != "TOTAL"]
    rows.sort(key=lambda row: int(row["level"]))
    hs_code_model.objects.bulk_create(
        [
            hs_code_model(
                code=row["hscode"],
                description=row["description"],
                parent_id=None if row["parent"] == "TOTAL" else row["parent"],
                level=int(row["level"]),
                section=row["section"],
            )
            for row in rows
        ],
        batch_size=1000,
    )
