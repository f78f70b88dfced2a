from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from ewtp.celery import app as celery_app
from hubs.hs_data import load_hs_nomenclature
from hubs.models import FxRate, FxSource, HSCode
from tests.tenants import make_tenant


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hashing strength is Django's business, not ours: a fast hasher keeps the cast cheap to create."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counts and heartbeats live in the shared cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def hgh(db):
    return make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")


@pytest.fixture
def mys(db):
    return make_tenant("MYS", "MY", "MYR", "Asia/Kuala_Lumpur")


def _drop_pooled_broker_connections():
    """Pooled connections keep the URL they were made with: drop them so the next send uses the current one."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def unreachable_broker():
    """Point the app at a port where no broker listens, as when Redis is down."""
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    _drop_pooled_broker_connections()
    yield
    celery_app.conf.broker_url = original
    _drop_pooled_broker_connections()


@pytest.fixture
def hs_nomenclature(transactional_db):
    """The HS rows a migration loads. A transactional test empties every table when it ends, so the
    tests that commit for real (a worker, a browser, threads) ask for them to be put back."""
    if not HSCode.objects.exists():
        load_hs_nomenclature(HSCode)


# Made-up ECB rates of the reference facts (§1.2): CNY 1,000.00 is MYR 641.03.
ECB_RATES = {"CNY": Decimal("7.8000"), "MYR": Decimal("5.0000"), "USD": Decimal("1.1000")}
ECB_DATE = date(2026, 10, 30)


def ecb_rates_on(day, rates=ECB_RATES):
    return FxRate.objects.bulk_create(
        FxRate(source=FxSource.ECB, base="EUR", quote=currency, rate=rate, rate_date=day)
        for currency, rate in rates.items()
    )


@pytest.fixture
def ecb_rates(db):
    """ECB reference rates of a recent day, made up so that conversions are easy to check by hand."""
    return ecb_rates_on(min(ECB_DATE, timezone.localdate() - timedelta(days=1)))


def past_sweep_grace(*rows):
    """Move the rows' `status_changed_at` back past the sweepers' grace: their reactions, as far as a sweeper can
    tell, were lost."""
    from django.conf import settings

    back = timedelta(seconds=settings.SWEEP_AFTER_SECONDS + 1)
    for row in rows:
        type(row).objects.filter(pk=row.pk).update(status_changed_at=timezone.now() - back)
