import pytest

from tests.tenants import make_tenant


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing strength is Django's business, not ours: a fast hasher keeps the cast cheap to create."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hgh(db):
    return make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")


@pytest.fixture
def mys(db):
    return make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur")
