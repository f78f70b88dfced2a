"""A task round trip through the real broker and a real worker process."""

import pytest

from ewtp.celery import app as celery_app
from hubs.tasks import worker_heartbeat_task
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_worker_answers_beats_heartbeat_and_healthz_says_so(celery_worker_process, client):
    assert client.get("/healthz").json()["checks"]["worker"]["status"] == "unknown"

    worker_heartbeat_task.delay()  # as beat sends it

    answered = wait_for(lambda: client.get("/healthz").json()["checks"]["worker"]["status"] == "ok")
    assert answered, f"no worker ran the task on {celery_app.conf.broker_url}:\n{celery_worker_process.read_text()}"
    assert "worker_heartbeat_task" in celery_worker_process.read_text()
