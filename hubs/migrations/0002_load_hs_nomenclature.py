from django.db import migrations

from hubs.hs_data import load_hs_nomenclature


def load(apps, schema_editor):
    load_hs_nomenclature(apps.get_model("hubs", "HSCode"))


def unload(apps, schema_editor):
    apps.get_model("hubs", "HSCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("hubs", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
