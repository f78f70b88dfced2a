def test_healthz_reports_database_and_broker(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": {"status": "ok"}, "broker": {"status": "ok"}}}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_a_broker_that_does_not_answer(db, client, unreachable_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"]["status"] == "error"
