"""GET /healthz, /readyz and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import text

from handover_api.api.routes.health import ALEMBIC_DIR, migration_head
from handover_api.cli import migrate
from handover_api.core.config import Settings
from handover_api.core.db import make_engine
from handover_api.main import create_app


def _sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(VOORDEUR_ENV="test", DATABASE_URL=f"sqlite:///{tmp_path / 'ready.sqlite3'}")


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_migration_head_is_the_newest_script() -> None:
    script = ScriptDirectory(str(ALEMBIC_DIR))
    head = migration_head()
    assert head is not None
    assert script.get_revision(head).nextrev == frozenset()  # nothing comes after it
    assert migration_head() == head
    assert migration_head.cache_info().hits >= 1  # read once, then cached


def test_readyz_ok_on_a_migrated_database(tmp_path: Path) -> None:
    settings = _sqlite_settings(tmp_path)
    migrate(settings)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "ok"}


def test_readyz_503_on_an_empty_unmigrated_database(tmp_path: Path) -> None:
    settings = _sqlite_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": "behind"}


def test_readyz_503_when_tables_exist_without_an_alembic_revision(client: TestClient) -> None:
    """The API fixtures build tables with ``create_all`` (SQLite and PostgreSQL): no stamp."""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "migrations": "behind"}


def test_readyz_503_when_the_database_is_at_an_older_revision(tmp_path: Path) -> None:
    settings = _sqlite_settings(tmp_path)
    migrate(settings)
    engine = make_engine(settings.DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migrations"] == "behind"


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
