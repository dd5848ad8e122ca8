"""Settings: defaults, refusal of placeholder secrets in production and of unusable
DATABASE_URLs at start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from handover_api.core.config import (
    DEFAULT_SQLITE_PATH,
    DEMO_TOKEN_VARIABLES,
    REPO_ROOT,
    Settings,
    describe_errors,
)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "VOORDEUR_ENV",
        "DATABASE_URL",
        "VOORDEUR_SERVICE_TOKEN",
        "VOORDEUR_RETENTION_DAYS",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.VOORDEUR_ENV == "development"
    assert settings.DATABASE_URL.startswith("sqlite:///")
    assert settings.DATABASE_URL.removeprefix("sqlite:///") == str(DEFAULT_SQLITE_PATH)
    assert DEFAULT_SQLITE_PATH.parent.name == "var"
    assert settings.VOORDEUR_SERVICE_TOKEN.get_secret_value() == "dev-service-token"
    assert settings.VOORDEUR_RETENTION_DAYS == 90


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOORDEUR_RETENTION_DAYS", "30")
    monkeypatch.setenv("VOORDEUR_CORS_ORIGINS", "http://a.example, http://b.example")
    settings = Settings()
    assert settings.VOORDEUR_RETENTION_DAYS == 30
    assert settings.cors_origins == ["http://a.example", "http://b.example"]


def test_production_refuses_the_placeholder_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOORDEUR_ENV", "production")
    monkeypatch.delenv("VOORDEUR_SERVICE_TOKEN", raising=False)
    with pytest.raises(ValidationError, match="development placeholder"):
        Settings()
    monkeypatch.setenv("VOORDEUR_SERVICE_TOKEN", "short")
    with pytest.raises(ValidationError, match="at least 24"):
        Settings()
    monkeypatch.setenv("VOORDEUR_SERVICE_TOKEN", "a-real-secret-of-enough-length")
    assert Settings().is_production


def test_production_start_up_fails_with_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    from handover_api.core.config import get_settings
    from handover_api.main import create_app

    monkeypatch.setenv("VOORDEUR_ENV", "production")
    monkeypatch.delenv("VOORDEUR_SERVICE_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(ValidationError):
            create_app()
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "",
        "postgresql+psycopg://voordeur:s3cret-pw@db.example:notaport/voordeur",
    ],
)
def test_unparsable_database_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(DATABASE_URL=url)
    message = str(info.value)
    assert "DATABASE_URL is not a valid SQLAlchemy URL" in message
    assert "s3cret-pw" not in message
    if url:
        assert url not in message


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("mysql+pymysql://voordeur:s3cret-pw@db.example/voordeur", "mysql"),
        ("postgres://voordeur:s3cret-pw@db.example/voordeur", "postgres"),
    ],
)
def test_unsupported_database_backend_is_refused(url: str, backend: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(DATABASE_URL=url)
    message = describe_errors(info.value)
    assert message == (
        f"DATABASE_URL uses the database backend {backend!r}; supported: sqlite, postgresql"
    )
    assert "s3cret-pw" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////tmp/voordeur/handover.sqlite3",
        "sqlite://",
        "postgresql+psycopg://voordeur:pw@127.0.0.1:5432/voordeur",
        "postgresql://voordeur@db.example/voordeur",
    ],
)
def test_supported_database_urls_are_accepted(url: str) -> None:
    accepted = Settings(DATABASE_URL=url).DATABASE_URL
    assert accepted == url


def test_production_refuses_demo_staff_tokens() -> None:
    real = {
        "VOORDEUR_ENV": "production",
        "VOORDEUR_SERVICE_TOKEN": "a-real-secret-of-enough-length",
    }
    for name in DEMO_TOKEN_VARIABLES:
        with pytest.raises(ValidationError, match=f"{name} must not be set"):
            Settings(**real, **{name: "anything-at-all-even-long-and-random"})  # type: ignore[arg-type]
    assert Settings(**real).is_production  # type: ignore[arg-type]
    # Outside production the demo tokens stay usable for the local run.
    local = Settings(VOORDEUR_DEMO_TOKEN_PEEL61="dev-staff-peel61")  # type: ignore[arg-type]
    assert local.VOORDEUR_DEMO_TOKEN_PEEL61 is not None


def test_cli_serve_exits_non_zero_on_an_unparsable_database_url() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DATABASE_URL": "postgresql+psycopg://voordeur:s3cret-pw@db.example:notaport/voordeur",
        "VOORDEUR_API_PORT": "1",  # never reached: nothing may start listening
    }
    result = subprocess.run(
        [sys.executable, "-m", "handover_api.cli", "serve"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DATABASE_URL is not a valid SQLAlchemy URL" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_the_twilio_sid_is_checked_only_when_messages_are_sent() -> None:
    """The local run shares the Rasa side's placeholder SID; it must not stop the API."""
    assert Settings(TWILIO_ACCOUNT_SID="ACdevelopment").TWILIO_ACCOUNT_SID == "ACdevelopment"
    with pytest.raises(ValidationError, match="not a Twilio account SID"):
        Settings(
            TWILIO_SEND=True,
            TWILIO_ACCOUNT_SID="ACdevelopment",
            TWILIO_AUTH_TOKEN="secret",  # type: ignore[arg-type]
        )
    real = Settings(
        TWILIO_SEND=True,
        TWILIO_ACCOUNT_SID="AC" + "0123456789abcdef" * 2,
        TWILIO_AUTH_TOKEN="secret",  # type: ignore[arg-type]
    )
    assert real.TWILIO_SEND
