"""A task round trip through the real broker and a real worker process."""

import time

import pytest

from ewtp.celery import app as celery_app
from hubs.tasks import worker_heartbeat_task

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def test_a_worker_answers_beats_heartbeat_and_healthz_says_so(celery_worker_process, client):
    assert client.get("/healthz").json()["checks"]["worker"]["status"] == "unknown"

    worker_heartbeat_task.delay()  # as beat sends it

    answered = wait_for(lambda: client.get("/healthz").json()["checks"]["worker"]["status"] == "ok")
    assert answered, f"no worker ran the task on {celery_app.conf.broker_url}:\n{celery_worker_process.read_text()}"
    assert "worker_heartbeat_task" in celery_worker_process.read_text()
