import csv
from pathlib import Path

from django.db import migrations

HS_CSV = Path(__file__).resolve().parent.parent / "data" / "hs" / "harmonized-system-2022.csv"


def load(apps, schema_editor):
    """Load the HS 2022 chapters, headings and subheadings, parents before children.

    UN Comtrade's statistical rows (section `TOTAL`: codes 99, 9999, 999999 and the grand total)
    are not goods codes and are left out.
    """
    HSCode = apps.get_model("hubs", "HSCode")
    with HS_CSV.open(newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if row["section"] != "TOTAL"]
    rows.sort(key=lambda row: int(row["level"]))
    HSCode.objects.bulk_create(
        [
            HSCode(
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


def unload(apps, schema_editor):
    apps.get_model("hubs", "HSCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("hubs", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
