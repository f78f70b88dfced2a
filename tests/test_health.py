import pytest

from ewtp.celery import app as celery_app


def test_healthz_reports_database_and_broker(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": {"status": "ok"}, "broker": {"status": "ok"}}}
    assert "no-cache" in response["Cache-Control"]


@pytest.fixture
def unreachable_broker():
    """Point the app at a port where no broker listens, as when Redis is down."""
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:9/0"
    yield
    celery_app.conf.broker_url = original


def test_healthz_is_503_naming_a_broker_that_does_not_answer(db, client, unreachable_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"]["status"] == "error"
