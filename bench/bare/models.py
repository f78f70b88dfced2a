from django.db import models
from django.utils import timezone


class Item(models.Model):
    """Five fields, one of them a decimal: about what a plain CRUD endpoint writes and reads.

    The app has no migrations: `migrate --run-syncdb` creates its table in the benchmark's own database."""

    sku = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=15, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
