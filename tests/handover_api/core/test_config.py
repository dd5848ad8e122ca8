"""Settings: defaults and refusal of placeholder secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from handover_api.core.config import DEFAULT_SQLITE_PATH, Settings


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
