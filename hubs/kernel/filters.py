"""Filter fields shared by the API's and the portal's list filters."""

from datetime import UTC

import django_filters
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, compared in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python
    (and so the input) allows up to ±23:59."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.astimezone(UTC) if value is not None else None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
