"""A task round trip through the real broker and a real worker process."""

import time

import pytest

from ewtp.celery import app as celery_app
from hubs.models import ApiKey
from tests.tenants import issue_key, key_client, make_tenant

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def test_the_worker_stamps_an_api_keys_last_use(celery_worker_process):
    tenant = make_tenant("HGH", "CN", "CNY", "Asia/Shanghai")
    api_key, key = issue_key(tenant.seller_admin, tenant.company_integrator)
    assert api_key.last_used_at is None

    # the request enqueues the stamp once the request's transaction commits; the worker writes it
    assert key_client(key).get("/api/v1/me/").status_code == 200

    stamped = wait_for(lambda: ApiKey.objects.get(pk=api_key.pk).last_used_at is not None)
    assert stamped, f"no worker ran the task on {celery_app.conf.broker_url}:\n{celery_worker_process.read_text()}"
    assert "mark_api_key_used_task" in celery_worker_process.read_text()
