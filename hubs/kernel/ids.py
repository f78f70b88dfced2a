"""Public ids: readable, prefixed where users see them (`ORD-3F2A9C01D4`), assigned by one field."""

import secrets

from django.db import models


def new_public_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5).upper()}"


class PublicIdField(models.CharField):
    """A unique public id with a fixed prefix, drawn when a row is first saved (bulk creates too)."""

    def __init__(self, *args, prefix, **kwargs):
        self.prefix = prefix
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        for key, default in (("max_length", 16), ("unique", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def pre_save(self, instance, add):
        if not getattr(instance, self.attname):
            setattr(instance, self.attname, new_public_id(self.prefix))
        return super().pre_save(instance, add)
