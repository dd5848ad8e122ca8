"""Property: no input gives a server error (5xx), whoever sends it.

Schemathesis generates requests for every operation of the API's own OpenAPI schema, valid
ones and invalid ones, and sends them in-process to the ASGI app; the ``not_a_server_error``
check fails on any 5xx (``/readyz`` may answer 503 only when the database is down, which it is
not here). Each request is authenticated as the action server (service token), a staff member
of Senzer or an auditor, drawn by Hypothesis, and path ids are half of the time those of a
real handover of Senzer, so that the code behind the 404 is reached too.

The run is bounded (25 examples per operation, derandomized so that a failure reproduces, no
Hypothesis example database) and uses its own SQLite file, created with
``Base.metadata.create_all``: state accumulates over the run, which is the point.
"""

from __future__ import annotations

import atexit
import itertools
import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session

from handover_api.cli import ALEMBIC_INI
from handover_api.core.config import Settings
from handover_api.core.db import make_engine
from handover_api.main import create_app
from handover_api.models import Base
from handover_api.services import users

SERVICE_TOKEN = "fuzz-service-token-0123456789"
_DB_DIR = Path(tempfile.mkdtemp(prefix="voordeur-fuzz-"))
# Also when the module is only collected (``-k`` elsewhere, ``--collect-only``).
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)
_SETTINGS = Settings(
    VOORDEUR_ENV="test",
    DATABASE_URL=f"sqlite:///{_DB_DIR / 'fuzz.sqlite3'}",
    VOORDEUR_SERVICE_TOKEN=SERVICE_TOKEN,  # type: ignore[arg-type]
)
APP = create_app(_SETTINGS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

# Operations whose 5xx is known and owned elsewhere: excluded from the property run and
# reproduced as a strict xfail below. Keep empty unless such a bug is open.
KNOWN_SERVER_ERRORS: dict[str, str] = {}

# Filled by the ``_world`` fixture: tokens per principal and ids of real data.
TOKENS: dict[str, str] = {"service": SERVICE_TOKEN}
KNOWN_IDS: dict[str, str] = {}


def _payload(conversation_id: str) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "channel": "web",
        "municipality": {"code": "GM0794", "name": "Helmond"},
        "destination": {"level": "regional", "organisation": "peel61", "team": "werk-inkomen"},
        "life_domains": [{"code": "inkomen", "evidence": ["geen inkomen"]}],
        "summary": "Inwoner wil bijstand aanvragen (fuzz).",
        "application": {"type": "bijstand", "fields": {"woonsituatie": "alleen"}},
        "contact": {"phone": "06-12345678", "preferred": "phone"},
        "consent": {"given": True, "at": "2025-03-04T10:00:00Z", "text_version": "v1"},
        "transcript": [
            {
                "event_id": "e1",
                "sender": "user",
                "text": "Ik ben ontslagen",
                "at": "2025-03-04T10:00:00Z",
            }
        ],
    }


@pytest.fixture(scope="module", autouse=True)
def _world() -> Iterator[None]:
    """Tables, a staff member and an auditor of Senzer, and one real handover."""
    engine = make_engine(_SETTINGS.DATABASE_URL)
    Base.metadata.create_all(engine)
    _stamp_head()
    with Session(engine) as session:
        for role in ("staff", "auditor"):
            user = users.create_user(
                session,
                username=f"fuzz-{role}",
                organisation="peel61",
                display_name=f"Fuzz {role}",
                team="werk-inkomen",
                role=role,
            )
            TOKENS[role] = users.issue_token(session, user=user)
        session.commit()
    with TestClient(APP) as client:
        response = client.post(
            "/api/v1/handovers",
            json=_payload("fuzz-conversation-1"),
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        )
        assert response.status_code == 201, response.text
        KNOWN_IDS["handover_id"] = response.json()["id"]
        KNOWN_IDS["conversation_id"] = "fuzz-conversation-1"
    yield
    APP.state.db.engine.dispose()
    engine.dispose()
    shutil.rmtree(_DB_DIR, ignore_errors=True)


def _stamp_head() -> None:
    """Mark the tables made by ``create_all`` as migrated, as ``/readyz`` checks that."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = _SETTINGS.DATABASE_URL
    config.attributes["configure_logger"] = False
    command.stamp(config, "head")


FUZZ_SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzzed(label: str) -> bool:
    return label not in KNOWN_SERVER_ERRORS


def _make_real(case: schemathesis.Case) -> None:
    """Real ids in the path, and a real municipality and destination in a new handover, so
    that the code behind the 404 and behind the region check is fuzzed too."""
    for name, value in KNOWN_IDS.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    if case.operation.label == "POST /api/v1/handovers" and isinstance(case.body, dict):
        real = _payload("unused")
        case.body["municipality"] = real["municipality"]
        case.body["destination"] = real["destination"]


@schema.include(lambda ctx: _fuzzed(ctx.operation.label)).parametrize()
@schema.given(who=st.sampled_from(["service", "staff", "auditor"]), real=st.booleans())
@FUZZ_SETTINGS
def test_no_server_error(case: schemathesis.Case, who: str, real: bool) -> None:
    if real:
        _make_real(case)
    headers = {"Authorization": f"Bearer {TOKENS[who]}"}
    case.call_and_validate(headers=headers, checks=[not_a_server_error])


# --- near-valid bodies ------------------------------------------------------------------------
# Generated from the schema alone, a new handover is almost never valid (the municipality,
# destination and consent must fit together), so the code behind validation is rarely
# reached. Here a valid handover gets one field replaced by an arbitrary JSON value.

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
OFFSETS = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
).map(lambda d: timezone(timedelta(minutes=round(d.total_seconds() / 60))))
TIMES = (
    st.datetimes(timezones=OFFSETS).map(lambda d: d.isoformat())
    | st.datetimes().map(lambda d: d.isoformat())
    | st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "", "now"])
)
TEXTS = st.text(max_size=40) | st.sampled_from(
    ["", " ", "\x00", "a\u2028b", "\ud800", "x" * 20_000, "regel\nregel", "\u202e"]
)


def _nested(depth: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    result: dict[str, Any] = value
    return result


FIELDS = (
    st.integers(min_value=1, max_value=600).map(_nested)
    | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=6)
    | st.sampled_from(
        [
            {"a": math.nan},
            {"a": [math.inf]},
            {"a": 10**300},
            {"a\x00": 1},
            {"a": "\x00"},
            {"": None},
            {str(i): i for i in range(150)},
        ]
    )
)
STRICT = st.sampled_from(["true", "false", 1, 0, None, "", [], {}])
# What is tried where: the values that broke something once, arbitrary text/time, any JSON.
FIELD_VALUES: dict[tuple[str | int, ...], st.SearchStrategy[Any]] = {
    ("conversation_id",): TEXTS,
    ("channel",): TEXTS,
    ("priority",): TEXTS,
    ("reference",): TEXTS,
    ("municipality", "name"): TEXTS,
    ("destination", "reason"): TEXTS,
    ("life_domains",): JSON_VALUES,
    ("life_domains", 0, "evidence"): st.lists(TEXTS, max_size=3),
    ("multi_problem",): STRICT,
    ("crisis",): st.fixed_dictionaries({"type": TEXTS}) | JSON_VALUES,
    ("summary",): TEXTS,
    ("application", "fields"): FIELDS,
    ("application", "complete"): STRICT,
    ("contact", "name"): TEXTS,
    ("contact", "phone"): TEXTS,
    ("contact", "email"): TEXTS,
    ("contact", "best_time"): TEXTS,
    ("consent", "given"): STRICT,
    ("consent", "at"): TIMES,
    ("consent", "text_version"): TEXTS,
    ("transcript",): JSON_VALUES,
    ("transcript", 0, "text"): TEXTS,
    ("transcript", 0, "at"): TIMES,
    ("transcript", 0, "event_id"): TEXTS,
    ("transcript", 0, "intent"): TEXTS,
}
_NUMBERS = itertools.count(1)


@st.composite
def _mutations(draw: st.DrawFn) -> list[tuple[tuple[str | int, ...], Any]]:
    paths = draw(st.lists(st.sampled_from(list(FIELD_VALUES)), min_size=1, max_size=2, unique=True))
    return [(path, draw(FIELD_VALUES[path] | JSON_VALUES)) for path in paths]


def _replace(body: Any, path: tuple[str | int, ...], value: Any) -> None:
    for key in path[:-1]:
        body = body[key]
    body[path[-1]] = value


@given(
    mutations=_mutations(),
    idempotency_key=st.none() | st.text(alphabet="abc-1", min_size=1, max_size=3),
)
@settings(max_examples=200, derandomize=True, database=None, deadline=None)
def test_near_valid_handovers_never_give_a_server_error(
    mutations: list[tuple[tuple[str | int, ...], Any]], idempotency_key: str | None
) -> None:
    body = _payload(f"fuzz-near-{next(_NUMBERS)}")
    for path, value in sorted(mutations, key=lambda m: -len(m[0])):  # children before parents
        _replace(body, path, value)
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    # json.dumps, not the client's encoder: NaN and Infinity must reach the server.
    content = json.dumps(body).encode("utf-8", "surrogatepass")
    with TestClient(APP, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/handovers", content=content, headers=headers)
    assert response.status_code < 500, (mutations, response.text)


def test_every_api_operation_and_the_health_checks_are_fuzzed() -> None:
    labels = {op.ok().label for op in schema.get_all_operations() if op.ok() is not None}
    api = {label for label in labels if " /api/v1/" in label}
    assert len(api) >= 8, sorted(labels)
    assert {"GET /healthz", "GET /readyz"} <= labels
    fuzzed = {label for label in labels if _fuzzed(label)}
    assert fuzzed == labels - set(KNOWN_SERVER_ERRORS)


# --- PostgreSQL only: text with NUL ------------------------------------------------------------
# SQLite stores a NUL character, PostgreSQL refuses it ("text fields cannot contain NUL"), so
# the SQLite run above cannot see this: conversation ids with control characters get a 422.

NUL_REQUESTS = [
    pytest.param("POST", "/api/v1/conversations/a%00b/events", "service"),
    pytest.param("GET", "/api/v1/conversations/a%00b/transcript", "staff"),
]


@pytest.mark.parametrize(("method", "url", "who"), NUL_REQUESTS)
def test_nul_in_a_path_parameter_is_no_server_error_on_postgresql(
    pg_server_url: str, method: str, url: str, who: str
) -> None:
    from sqlalchemy.engine import make_url

    from tests.handover_api.conftest import ensure_pg_database

    database = make_url(pg_server_url).set(database="voordeur_fuzz")
    pg_url = database.render_as_string(hide_password=False)
    problem = ensure_pg_database(pg_url)
    if problem:
        pytest.skip(problem)
    engine = make_engine(pg_url)
    Base.metadata.create_all(engine)
    settings_ = Settings(
        VOORDEUR_ENV="test",
        DATABASE_URL=pg_url,
        VOORDEUR_SERVICE_TOKEN=SERVICE_TOKEN,  # type: ignore[arg-type]
    )
    app = create_app(settings_)
    token = SERVICE_TOKEN
    if who == "staff":
        with Session(engine) as session:
            user = users.get_user(session, username="fuzz-nul-staff") or users.create_user(
                session,
                username="fuzz-nul-staff",
                organisation="peel61",
                display_name="Fuzz",
                team="werk-inkomen",
            )
            token = users.issue_token(session, user=user)
            session.commit()
    event = {"event_id": "e1", "sender": "user", "text": "x", "at": "2025-03-04T10:00:00Z"}
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.request(
                method,
                url,
                json={"events": [event]} if method == "POST" else None,
                headers={"Authorization": f"Bearer {token}"},
            )
    finally:
        app.state.db.engine.dispose()
        engine.dispose()
    assert response.status_code < 500, response.text
