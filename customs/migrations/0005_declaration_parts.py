from django.db import migrations, models


class Migration(migrations.Migration):
    """A declaration's parts become the declarations it is lodged as, with their lines (they were a count). A count
    cannot become its parts, so a market-procurement declaration filed before keeps none: it reads as one."""

    dependencies = [("customs", "0004_summary_declarations")]

    operations = [
        migrations.RemoveField(model_name="declaration", name="parts"),
        migrations.AddField(
            model_name="declaration",
            name="parts",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Market procurement above its cap: [{number, lines: [{position, quantity, value}], value}], "
                "the declarations it is lodged as, each at most the cap.",
            ),
        ),
    ]
