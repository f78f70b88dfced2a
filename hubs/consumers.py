"""A consumer's ID number is never stored: only a mask for people and a keyed hash for quota counting."""

import hashlib
import hmac

from django.conf import settings


def normalize_id_number(id_number):
    return "".join(id_number.split()).upper()


def consumer_hash(id_number):
    """A keyed hash of the ID number: the same consumer gives the same hash, and the hash reveals nothing."""
    key = settings.CONSUMER_ID_HASH_KEY.encode()
    return hmac.new(key, normalize_id_number(id_number).encode(), hashlib.sha256).hexdigest()


def mask_id_number(id_number):
    """All but the last four characters hidden: `**************123X`."""
    normalized = normalize_id_number(id_number)
    return "*" * max(len(normalized) - 4, 0) + normalized[-4:]
