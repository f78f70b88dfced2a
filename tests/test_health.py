from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from hubs.tasks import WORKER_HEARTBEAT_KEY, worker_heartbeat_task


def test_healthz_reports_database_and_broker(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == body["checks"]["broker"] == {"status": "ok"}
    assert body["checks"]["worker"]["status"] == "unknown"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_a_broker_that_does_not_answer(db, client, unreachable_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"]["status"] == "error"


def test_healthz_says_when_a_worker_last_answered(db, client):
    worker_heartbeat_task()  # what a worker runs when beat asks
    worker = client.get("/healthz").json()["checks"]["worker"]
    assert worker["status"] == "ok"
    assert worker["seconds_ago"] <= 5


def test_healthz_reports_a_silent_worker_without_failing(db, client):
    cache.set(WORKER_HEARTBEAT_KEY, (timezone.now() - timedelta(minutes=10)).isoformat())
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["worker"]["status"] == "silent"
