"""Fixtures of the handover API tests.

The database fixture is parametrized over SQLite (a temporary file) and PostgreSQL
(``VOORDEUR_TEST_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/voordeur_test``,
created when missing; skipped when unreachable unless ``VOORDEUR_REQUIRE_PG=1``). Each test runs
in one outer transaction that is rolled back at the end; the app's session joins it with
SAVEPOINTs, so the routes' commits stay inside the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from handover_api.api.deps import get_session
from handover_api.core.config import Settings
from handover_api.core.db import make_engine
from handover_api.main import create_app
from handover_api.models import Base
from handover_api.services import users

SERVICE_TOKEN = "test-service-token-0123456789"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/voordeur_test"
REPO_ROOT = Path(__file__).resolve().parents[2]


def pg_url() -> str:
    return os.environ.get("VOORDEUR_TEST_PG_URL", DEFAULT_PG_URL)


def pg_required() -> bool:
    return os.environ.get("VOORDEUR_REQUIRE_PG") == "1"


def ensure_pg_database(url: str) -> str | None:
    """Create the database of ``url`` if missing; None when reachable, else the reason."""
    target = make_url(url)
    admin = create_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # unreachable server, no permission, ...
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        admin.dispose()
    return None


def skip_or_fail_pg(reason: str) -> None:
    message = f"PostgreSQL not available at {pg_url()}: {reason}"
    if pg_required():
        pytest.fail(message + " (VOORDEUR_REQUIRE_PG=1)")
    pytest.skip(message)


@pytest.fixture
def pg_server_url() -> str:
    """URL of the PostgreSQL test database (created if missing); skips/fails when unreachable."""
    url = pg_url()
    problem = ensure_pg_database(url)
    if problem:
        skip_or_fail_pg(problem)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'handover-test.sqlite3'}"
    else:
        url = pg_url()
        problem = ensure_pg_database(url)
        if problem:
            skip_or_fail_pg(problem)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    transaction = conn.begin()
    yield conn
    transaction.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    s = Session(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    yield s
    s.close()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        VOORDEUR_ENV="test",
        DATABASE_URL=db_url,
        VOORDEUR_SERVICE_TOKEN=SERVICE_TOKEN,  # type: ignore[arg-type]
        VOORDEUR_RETENTION_DAYS=90,
    )


@pytest.fixture
def app(settings: Settings, session: Session) -> FastAPI:
    application = create_app(settings)

    def _session() -> Iterator[Session]:
        yield session

    application.dependency_overrides[get_session] = _session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service_headers() -> dict[str, str]:
    return bearer(SERVICE_TOKEN)


@pytest.fixture
def make_staff(session: Session) -> Callable[..., dict[str, str]]:
    """Create a staff user of ``organisation``; returns its Authorization headers."""

    def _make(organisation: str, username: str | None = None, team: str = "team") -> dict[str, str]:
        user = users.create_user(
            session,
            username=username or f"{organisation}-{uuid.uuid4().hex[:6]}",
            organisation=organisation,
            display_name=f"Medewerker {organisation}",
            team=team,
        )
        token = users.issue_token(session, user=user)
        session.commit()
        return bearer(token)

    return _make


@pytest.fixture
def peel_headers(make_staff: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_staff("peel61", username="anna")


@pytest.fixture
def helmond_headers(make_staff: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_staff("gemeente-helmond", username="bram")


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /handovers body for peel61; top-level keys can be overridden."""
    now = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    body: dict[str, Any] = {
        "conversation_id": f"conv-{uuid.uuid4().hex[:12]}",
        "channel": "web",
        "priority": "normal",
        "municipality": {"code": "GM0794", "name": "Helmond"},
        "destination": {
            "level": "regional",
            "organisation": "peel61",
            "team": "werk-inkomen",
            "reason": "Vraag over bijstand: werk en inkomen is regionaal belegd.",
        },
        "life_domains": [
            {"code": "inkomen", "evidence": ["ik heb geen inkomen, bel me op 06-12345678"]},
            {"code": "schulden", "evidence": ["de deurwaarder komt"]},
        ],
        "multi_problem": True,
        "crisis": None,
        "summary": "Inwoner is ontslagen, heeft geen inkomen en schulden. Wil bijstand aanvragen.",
        "application": {
            "type": "bijstand",
            "fields": {"woonsituatie": "alleen"},
            "complete": False,
        },
        "contact": {
            "name": "Jan Jansen",
            "phone": "06-12345678",
            "email": "jan@example.nl",
            "preferred": "phone",
            "best_time": "ochtend",
        },
        "consent": {"given": True, "at": now.isoformat(), "text_version": "v1"},
        "transcript": [
            {"event_id": "e1", "sender": "user", "text": "Ik ben ontslagen", "at": now.isoformat()},
            {
                "event_id": "e2",
                "sender": "bot",
                "text": "Wat is uw telefoonnummer?",
                "at": (now + timedelta(seconds=5)).isoformat(),
            },
            {
                "event_id": "e3",
                "sender": "user",
                "text": "06-12345678, mijn BSN is 123456782",
                "at": (now + timedelta(seconds=10)).isoformat(),
                "intent": "inform",
            },
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def create_handover(
    client: TestClient, service_headers: dict[str, str]
) -> Callable[..., dict[str, Any]]:
    """POST a handover (overrides as in ``payload``) and return the 201 response body."""

    def _create(**overrides: Any) -> dict[str, Any]:
        response = client.post(
            "/api/v1/handovers", json=payload(**overrides), headers=service_headers
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    return _create


@pytest.fixture
def contract_dir() -> Path:
    """The repository's copy of the shared contract (``contract/``, checked against
    ``../shared/contract`` by ``tests/test_contract_copy.py``); always present."""
    return REPO_ROOT / "contract"


@pytest.fixture
def make_payload() -> Callable[..., dict[str, Any]]:
    return payload


# A bijstand application as the assistant hands it over (stored shapes of
# applications/catalogue.py; woonlasten skipped). Tests copy it and change what they need.
BIJSTAND_APPLICATION_FIELDS: dict[str, Any] = {
    "naam": "Jan Jansen",
    "geboortedatum": "1988-03-15",
    "adres": {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": "a"},
    "huishouden": {
        "partner": True,
        "kinderen": 2,
        "leeftijden_kinderen": [4, 7],
        "andere_volwassenen": 0,
    },
    "inkomen": ["geen"],
    "woonlasten": None,
    "contactvoorkeur": "phone",
    "contactmoment": "morgen na 14 uur",
    "gemeente": "Helmond",
}
