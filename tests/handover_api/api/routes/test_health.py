"""GET /healthz, /readyz and the OpenAPI document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from handover_api.core.config import Settings
from handover_api.main import create_app


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_ok(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_readyz_503_when_database_unreachable() -> None:
    settings = Settings(
        VOORDEUR_ENV="test",
        DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200  # liveness does not touch the DB
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/handovers"])
    assert {"get", "patch"} <= set(paths["/api/v1/handovers/{handover_id}"])
    assert "/api/v1/conversations/{conversation_id}/events" in paths
    assert "/api/v1/conversations/{conversation_id}/transcript" in paths
    assert not any(p.startswith("/staff") for p in paths)
    assert client.get("/docs").status_code == 200
