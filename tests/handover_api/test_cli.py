"""python -m handover_api.cli: migrate, create-user, create-token, seed-demo, purge."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handover_api.cli import main
from handover_api.core.config import REPO_ROOT, Settings
from handover_api.core.db import make_engine, make_session_factory
from handover_api.core.security import hash_token
from handover_api.models import (
    ApiToken,
    Conversation,
    ConversationEvent,
    Handover,
    StaffUser,
    utcnow,
)
from handover_api.services.principals import authenticate


@pytest.fixture
def cli_settings(tmp_path: Path) -> Settings:
    return Settings(
        VOORDEUR_ENV="test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        VOORDEUR_DEMO_TOKEN_PEEL61="fixed-peel61-token",  # type: ignore[arg-type]
    )


def run(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv), settings=settings)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_user_and_token_commands(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(cli_settings, capsys, "migrate")[0] == 0
    code, out = run(
        cli_settings,
        capsys,
        "create-user",
        "--username",
        "els",
        "--organisation",
        "peel61",
        "--team",
        "werk-en-inkomen",
        "--display-name",
        "Els de Vries",
    )
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("vd_") and len(token) > 30
    code, out = run(cli_settings, capsys, "create-token", "--username", "els")
    second = out.strip().splitlines()[-1]
    assert code == 0 and second != token
    assert run(cli_settings, capsys, "create-token", "--username", "nobody")[0] == 1
    assert (
        run(
            cli_settings,
            capsys,
            "create-user",
            "--username",
            "els",
            "--organisation",
            "x",
            "--display-name",
            "Dubbel",
        )[0]
        == 1
    )

    engine = make_engine(cli_settings.DATABASE_URL)
    with make_session_factory(engine)() as session:
        hashes = set(session.scalars(select(ApiToken.token_hash)))
        assert hashes == {hash_token(token), hash_token(second)}  # only hashes are stored
        principal = authenticate(session, token=token, service_token="svc")
        assert principal is not None and principal.organisation == "peel61"
        assert principal.team == "werk-en-inkomen" and principal.display_name == "Els de Vries"
    engine.dispose()


def test_seed_demo_is_idempotent_and_uses_fixed_tokens(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_settings, capsys, "migrate")
    code, out = run(cli_settings, capsys, "seed-demo")
    assert code == 0
    assert "peel61\tdemo-peel61\tfixed-peel61-token" in out
    assert "gemeente-helmond\tdemo-helmond\tvd_" in out
    code, out2 = run(cli_settings, capsys, "seed-demo")
    assert code == 0 and "fixed-peel61-token" in out2
    engine = make_engine(cli_settings.DATABASE_URL)
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 3
        reviewer = session.scalars(
            select(StaffUser).where(StaffUser.username == "demo-frontoffice-helmond")
        ).one()
        assert reviewer.role == "reviewer" and reviewer.organisation == "gemeente-helmond"
        assert session.scalar(select(func.count()).select_from(Handover)) == 4
        conversations = session.scalars(select(Conversation).order_by(Conversation.id)).all()
        assert [c.id for c in conversations] == ["c-demo-begrepen", "c-demo-niet-begrepen"]
        assert [c.fallbacks for c in conversations] == [0, 1]
        assert session.scalar(select(func.count()).select_from(ConversationEvent)) == 8
        principal = authenticate(session, token="fixed-peel61-token", service_token="svc")
        assert principal is not None and principal.organisation == "peel61"
    engine.dispose()


def test_seed_demo_refused_in_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        VOORDEUR_ENV="production",
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        VOORDEUR_SERVICE_TOKEN="a-real-secret-of-enough-length",  # type: ignore[arg-type]
    )
    code, out = run(settings, capsys, "seed-demo")
    assert code == 1 and "production" in out


def test_purge_command_prints_counts(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_settings, capsys, "migrate")
    run(cli_settings, capsys, "seed-demo")
    engine = make_engine(cli_settings.DATABASE_URL)
    with make_session_factory(engine)() as session:
        handover = session.scalars(select(Handover).order_by(Handover.reference)).first()
        assert handover is not None
        handover.status = "closed"
        handover.closed_at = utcnow() - timedelta(days=91)
        session.commit()
    engine.dispose()
    code, out = run(cli_settings, capsys, "purge")
    assert code == 0
    assert "retention: 90 days" in out
    assert "handovers deleted: 1" in out
    assert "notes deleted: 0" in out
    assert "conversation events deleted: 0" in out  # its events are recent
    assert "audit rows reduced to ids: 1" in out


def test_module_entry_point_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "handover_api.cli", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    for command in (
        "migrate",
        "create-user",
        "create-token",
        "token",
        "purge",
        "seed-demo",
        "serve",
    ):
        assert command in result.stdout


def _db(settings: Settings) -> Session:
    return make_session_factory(make_engine(settings.DATABASE_URL))()


def test_token_list_create_revoke(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_settings, capsys, "migrate")
    code, out = run(
        cli_settings,
        capsys,
        "create-user",
        "--username",
        "els",
        "--organisation",
        "peel61",
        "--display-name",
        "Els",
        "--days",
        "7",
    )
    assert code == 0 and "valid 7 days" in out
    first = out.strip().splitlines()[-1]
    code, out = run(cli_settings, capsys, "token", "create", "--username", "els", "--days", "30")
    second = out.strip().splitlines()[-1]
    assert code == 0 and second.startswith("vd_") and second != first

    code, listing = run(cli_settings, capsys, "token", "list", "--username", "els")
    assert code == 0
    lines = listing.strip().splitlines()
    assert lines[0].split("\t") == ["id", "user", "created", "expires", "revoked", "state"]
    assert [line.split("\t")[1] for line in lines[1:]] == ["els", "els"]
    assert all(line.endswith("\tactive") for line in lines[1:])
    assert first not in listing and second not in listing  # never a token value

    with _db(cli_settings) as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        assert [(r.expires_at - r.created_at).days for r in rows] == [7, 30]
        first_id = rows[0].id

    code, out = run(cli_settings, capsys, "token", "revoke", "--id", str(first_id))
    assert code == 0 and "revoked" in out
    with _db(cli_settings) as session:
        assert authenticate(session, token=first, service_token="svc") is None
        assert authenticate(session, token=second, service_token="svc") is not None
    code, listing = run(cli_settings, capsys, "token", "list")
    assert f"{first_id}\tels\t" in listing and "\trevoked" in listing

    code, out = run(cli_settings, capsys, "token", "revoke", "--username", "els", "--all")
    assert code == 0 and "revoked 1 token(s)" in out
    with _db(cli_settings) as session:
        assert authenticate(session, token=second, service_token="svc") is None

    assert run(cli_settings, capsys, "token", "revoke", "--id", "999")[0] == 1
    assert run(cli_settings, capsys, "token", "revoke", "--username", "els")[0] == 2
    assert run(cli_settings, capsys, "token", "create", "--username", "nobody")[0] == 1
    with pytest.raises(SystemExit):
        run(cli_settings, capsys, "token", "create", "--username", "els", "--days", "0")


def test_expired_token_is_refused_service_token_is_not(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_settings, capsys, "migrate")
    _, out = run(
        cli_settings,
        capsys,
        "create-user",
        "--username",
        "jan",
        "--organisation",
        "peel61",
        "--display-name",
        "Jan",
    )
    token = out.strip().splitlines()[-1]
    with _db(cli_settings) as session:
        row = session.scalars(select(ApiToken)).one()
        assert (row.expires_at - row.created_at).days == cli_settings.VOORDEUR_TOKEN_DAYS
        assert authenticate(session, token=token, service_token="svc") is not None
        later = row.expires_at + timedelta(seconds=1)
        assert authenticate(session, token=token, service_token="svc", now=later) is None
        service = authenticate(session, token="svc", service_token="svc", now=later)
        assert service is not None and service.is_service
    _, listing = run(cli_settings, capsys, "token", "list")
    assert listing.strip().splitlines()[1].endswith("\tactive")


def test_create_user_with_auditor_role(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_settings, capsys, "migrate")
    base = ["create-user", "--organisation", "peel61", "--display-name", "X"]
    assert run(cli_settings, capsys, *base, "--username", "aud", "--role", "auditor")[0] == 0
    assert run(cli_settings, capsys, *base, "--username", "wrk")[0] == 0
    with pytest.raises(SystemExit):
        run(cli_settings, capsys, *base, "--username", "x", "--role", "admin")
    with _db(cli_settings) as session:
        roles = dict(session.execute(select(StaffUser.username, StaffUser.role)).tuples().all())
    assert roles == {"aud": "auditor", "wrk": "staff"}


def test_seed_demo_never_revives_a_revoked_demo_token(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    run(cli_settings, capsys, "migrate")
    code, out = run(cli_settings, capsys, "seed-demo", "--no-handovers")
    assert code == 0 and "fixed-peel61-token" in out
    assert (
        run(cli_settings, capsys, "token", "revoke", "--username", "demo-peel61", "--all")[0] == 0
    )
    for username in ("demo-helmond", "demo-frontoffice-helmond"):
        assert run(cli_settings, capsys, "token", "revoke", "--username", username, "--all")[0] == 0
    with _db(cli_settings) as session:
        before = session.scalar(select(func.count()).select_from(ApiToken))

    code, out = run(cli_settings, capsys, "seed-demo", "--no-handovers")
    assert code == 0
    assert "fixed-peel61-token" not in out
    assert "warning: demo-peel61:" in out and "stays revoked" in out
    assert "warning: demo-helmond:" in out and "no new token" in out
    assert "\tvd_" not in out  # nothing minted
    with _db(cli_settings) as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == before
        assert authenticate(session, token="fixed-peel61-token", service_token="svc") is None
