from django.db import migrations

from logistics.reference_units import load_reference_units


def seed(apps, schema_editor):
    load_reference_units(apps.get_model("logistics", "ModeRule"), apps.get_model("logistics", "UnitType"))


class Migration(migrations.Migration):
    dependencies = [("logistics", "0001_consolidation")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
