"""Settings for the handover API, read from the environment (one pydantic-settings class).

Environment variables (all optional in development):

- ``VOORDEUR_ENV``: ``development`` (default), ``test`` or ``production``.
- ``DATABASE_URL``: SQLAlchemy URL; default ``sqlite:///<repo>/var/handover.sqlite3``.
  PostgreSQL: ``postgresql+psycopg://user:pass@host:5432/voordeur``.
- ``VOORDEUR_SERVICE_TOKEN``: bearer token of the action server (service principal). The
  placeholder ``dev-service-token`` is refused when ``VOORDEUR_ENV=production``.
- ``VOORDEUR_RETENTION_DAYS``: days to keep closed/returned handovers and stale conversation
  events before ``purge`` deletes them (default 90).
- ``VOORDEUR_API_HOST`` / ``VOORDEUR_API_PORT``: where ``cli serve`` listens (127.0.0.1:8000).
- ``VOORDEUR_CORS_ORIGINS``: comma-separated origins allowed by CORS (default none).
- ``VOORDEUR_DEMO_TOKEN_PEEL61`` / ``VOORDEUR_DEMO_TOKEN_HELMOND``: fixed bearer tokens that
  ``cli seed-demo`` gives the demo staff users (otherwise it mints new ones).
- ``VOORDEUR_LOG_LEVEL``: log level of the ``handover_api`` loggers (default INFO).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "handover.sqlite3"
PLACEHOLDER_SERVICE_TOKEN = "dev-service-token"


class Settings(BaseSettings):
    """All configuration of the handover API. Field names are the environment variable names."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True)

    VOORDEUR_ENV: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    VOORDEUR_SERVICE_TOKEN: SecretStr = SecretStr(PLACEHOLDER_SERVICE_TOKEN)
    VOORDEUR_RETENTION_DAYS: int = Field(default=90, ge=1, le=3650)
    VOORDEUR_API_HOST: str = "127.0.0.1"
    VOORDEUR_API_PORT: int = Field(default=8000, ge=1, le=65535)
    VOORDEUR_CORS_ORIGINS: str = ""
    VOORDEUR_DEMO_TOKEN_PEEL61: SecretStr | None = None
    VOORDEUR_DEMO_TOKEN_HELMOND: SecretStr | None = None
    VOORDEUR_LOG_LEVEL: str = "INFO"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        token = self.VOORDEUR_SERVICE_TOKEN.get_secret_value()
        if self.VOORDEUR_ENV == "production":
            if token == PLACEHOLDER_SERVICE_TOKEN:
                raise ValueError(
                    "VOORDEUR_SERVICE_TOKEN is the development placeholder; "
                    "set a real secret when VOORDEUR_ENV=production"
                )
            if len(token) < 24:
                raise ValueError(
                    "VOORDEUR_SERVICE_TOKEN must be at least 24 characters in production"
                )
        if not token:
            raise ValueError("VOORDEUR_SERVICE_TOKEN must not be empty")
        return self

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.VOORDEUR_CORS_ORIGINS.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.VOORDEUR_ENV == "production"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own ``Settings`` instead."""
    return Settings()
