"""Settings for the handover API, read from the environment (one pydantic-settings class).

Environment variables (all optional in development):

- ``VOORDEUR_ENV``: ``development`` (default), ``test`` or ``production``.
- ``DATABASE_URL``: SQLAlchemy URL; default ``sqlite:///<repo>/var/handover.sqlite3``.
  PostgreSQL: ``postgresql+psycopg://user:pass@host:5432/voordeur``. A URL that SQLAlchemy
  cannot parse, or another backend than sqlite/postgresql, is refused at start-up.
- ``VOORDEUR_SERVICE_TOKEN``: bearer token of the action server (service principal). The
  placeholder ``dev-service-token`` is refused when ``VOORDEUR_ENV=production``.
- ``VOORDEUR_RETENTION_DAYS``: days to keep closed/returned handovers and stale conversation
  events before ``purge`` deletes them (default 90).
- ``VOORDEUR_API_HOST`` / ``VOORDEUR_API_PORT``: where ``cli serve`` listens (127.0.0.1:8000).
- ``VOORDEUR_CORS_ORIGINS``: comma-separated origins allowed by CORS (default none).
- ``VOORDEUR_DEMO_TOKEN_PEEL61`` / ``VOORDEUR_DEMO_TOKEN_HELMOND`` /
  ``VOORDEUR_DEMO_TOKEN_REVIEWER``: fixed bearer tokens that ``cli seed-demo`` gives the demo
  staff users (the last one Helmond's front-office reviewer; otherwise it mints new ones).
  Refused when ``VOORDEUR_ENV=production``: a well-known staff token would open every inbox.
- ``VOORDEUR_LOG_LEVEL``: log level of the ``handover_api`` loggers (default INFO).
- ``VOORDEUR_DATA_DIR``: the data folder whose ``regions/*.yml`` name the municipalities,
  organisations and teams a handover may be addressed to, and whose ``applications.yml`` is the
  field catalogue of pre-filled applications (default ``<repo>/data``).
- ``VOORDEUR_CONVERSATION_RETENTION_DAYS``: days to keep conversation events that never led
  to a handover (default 14).
- ``VOORDEUR_MAX_OPEN_DAYS``: a handover that was never closed is deleted after this many days
  (default 365).
- ``VOORDEUR_TOKEN_DAYS``: lifetime of a personal staff token (default 90).
- ``VOORDEUR_SESSION_IDLE_MINUTES`` / ``VOORDEUR_SESSION_MAX_HOURS``: a staff page session ends
  after this much inactivity (default 30) or this long after login (default 10).

Messages to residents (``services/messaging.py``; all optional, sending is off by default):

- ``TWILIO_SEND``: ``true`` sends professionals' messages through Twilio; ``false`` (default,
  local runs and tests without a fake Twilio) stores them as ``not_sent`` (reason
  ``sending_off``), so no development machine ever messages a real phone.
- ``TWILIO_ACCOUNT_SID`` / ``TWILIO_AUTH_TOKEN``: the Twilio account (required with
  ``TWILIO_SEND=true``); the token also validates Twilio's status callbacks.
- ``TWILIO_NUMBER`` / ``TWILIO_WHATSAPP_NUMBER``: the sender for SMS and for WhatsApp (E.164,
  ``+31...``; the ``whatsapp:`` prefix is optional).
- ``TWILIO_API_BASE_URL``: another base URL for Twilio's REST API (a local fake in tests);
  refused when ``VOORDEUR_ENV=production``, where the auth token goes to Twilio only.
- ``VOORDEUR_PUBLIC_API_URL``: the address at which Twilio reaches this API (e.g.
  ``https://voordeur.example.nl``): the ``StatusCallback`` of sent messages and the URL a
  callback's signature is checked against (behind a proxy the request URL differs). Also the
  base of the case link in team notifications (default ``http://<API host>:<API port>``).

Team notifications (``services/notifications.py``, ``handover_api/notify``, the team's
``notify:`` block in its region file; docs/team-notifications.md):

- ``VOORDEUR_SMTP_HOST`` / ``VOORDEUR_SMTP_PORT`` (25): the SMTP server e-mail goes through;
  without a host, e-mail notifications wait in the outbox with the error "SMTP not configured".
- ``VOORDEUR_SMTP_USERNAME`` / ``VOORDEUR_SMTP_PASSWORD``: SMTP login, when the server wants one.
- ``VOORDEUR_SMTP_STARTTLS`` (false) / ``VOORDEUR_SMTP_SSL`` (false): TLS on the connection.
- ``VOORDEUR_MAIL_FROM``: the sender address (default ``voordeur@localhost``).
- ``VOORDEUR_NOTIFY_EXAMPLES``: ``true`` also notifies teams whose ``notify:`` is an example
  (placeholder addresses): only for a local run whose SMTP server catches every message.
  Refused when ``VOORDEUR_ENV=production``.
- ``VOORDEUR_WORKER_INTERVAL_SECONDS``: how often ``cli worker`` delivers and escalates (20).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "handover.sqlite3"
PLACEHOLDER_SERVICE_TOKEN = "dev-service-token"
SUPPORTED_DATABASE_BACKENDS = ("sqlite", "postgresql")
DEMO_TOKEN_VARIABLES = (
    "VOORDEUR_DEMO_TOKEN_PEEL61",
    "VOORDEUR_DEMO_TOKEN_HELMOND",
    "VOORDEUR_DEMO_TOKEN_REVIEWER",
)


TWILIO_ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-fA-F]{32}$")


class Settings(BaseSettings):
    """All configuration of the handover API. Field names are the environment variable names."""

    # hide_input_in_errors: a refused DATABASE_URL or token must not be echoed into logs.
    model_config = SettingsConfigDict(
        extra="ignore", case_sensitive=True, hide_input_in_errors=True
    )

    VOORDEUR_ENV: Literal["development", "test", "production"] = "development"
    DATABASE_URL: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    VOORDEUR_SERVICE_TOKEN: SecretStr = SecretStr(PLACEHOLDER_SERVICE_TOKEN)
    VOORDEUR_RETENTION_DAYS: int = Field(default=90, ge=1, le=3650)
    VOORDEUR_API_HOST: str = "127.0.0.1"
    VOORDEUR_API_PORT: int = Field(default=8000, ge=1, le=65535)
    VOORDEUR_CORS_ORIGINS: str = ""
    VOORDEUR_DEMO_TOKEN_PEEL61: SecretStr | None = None
    VOORDEUR_DEMO_TOKEN_HELMOND: SecretStr | None = None
    VOORDEUR_DEMO_TOKEN_REVIEWER: SecretStr | None = None
    VOORDEUR_LOG_LEVEL: str = "INFO"
    VOORDEUR_DATA_DIR: Path = REPO_ROOT / "data"
    VOORDEUR_CONVERSATION_RETENTION_DAYS: int = Field(default=14, ge=1, le=3650)
    VOORDEUR_MAX_OPEN_DAYS: int = Field(default=365, ge=1, le=3650)
    VOORDEUR_TOKEN_DAYS: int = Field(default=90, ge=1, le=3650)
    VOORDEUR_SESSION_IDLE_MINUTES: int = Field(default=30, ge=1, le=24 * 60)
    VOORDEUR_SESSION_MAX_HOURS: int = Field(default=10, ge=1, le=24 * 7)
    TWILIO_SEND: bool = False
    # Checked only when messages are really sent: local runs share the placeholder SID of the
    # Rasa side ("ACdevelopment"), which must not stop the API from starting.
    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_NUMBER: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")
    TWILIO_WHATSAPP_NUMBER: str | None = Field(
        default=None, pattern=r"^(whatsapp:)?\+[1-9][0-9]{6,14}$"
    )
    TWILIO_API_BASE_URL: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    VOORDEUR_PUBLIC_API_URL: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    VOORDEUR_SMTP_HOST: str | None = None
    VOORDEUR_SMTP_PORT: int = Field(default=25, ge=1, le=65535)
    VOORDEUR_SMTP_USERNAME: str | None = None
    VOORDEUR_SMTP_PASSWORD: SecretStr | None = None
    VOORDEUR_SMTP_STARTTLS: bool = False
    VOORDEUR_SMTP_SSL: bool = False
    VOORDEUR_MAIL_FROM: str = Field(default="voordeur@localhost", pattern=r"^[^@\s<>]+@[^\s<>]+$")
    VOORDEUR_NOTIFY_EXAMPLES: bool = False
    VOORDEUR_WORKER_INTERVAL_SECONDS: float = Field(default=20, ge=1, le=3600)

    @field_validator(
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_NUMBER",
        "TWILIO_WHATSAPP_NUMBER",
        "TWILIO_API_BASE_URL",
        "VOORDEUR_PUBLIC_API_URL",
        "VOORDEUR_SMTP_HOST",
        "VOORDEUR_SMTP_USERNAME",
        "VOORDEUR_SMTP_PASSWORD",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """``TWILIO_NUMBER=`` in an env file means "not set", not an invalid number."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url_is_usable(cls, value: str) -> str:
        """Refuse at start-up what would otherwise only fail at the first request.

        The messages never quote the URL: it may carry the database password.
        """
        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError(
                "DATABASE_URL is not a valid SQLAlchemy URL; expected e.g. "
                "sqlite:////path/to/handover.sqlite3 or "
                "postgresql+psycopg://user:password@host:5432/voordeur"
            ) from None
        if backend not in SUPPORTED_DATABASE_BACKENDS:
            raise ValueError(
                f"DATABASE_URL uses the database backend {backend!r}; "
                f"supported: {', '.join(SUPPORTED_DATABASE_BACKENDS)}"
            )
        return value

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
            demo = [name for name in DEMO_TOKEN_VARIABLES if getattr(self, name) is not None]
            if demo:
                raise ValueError(
                    f"{', '.join(demo)} must not be set when VOORDEUR_ENV=production "
                    "(demo staff tokens are for local runs only)"
                )
        if not token:
            raise ValueError("VOORDEUR_SERVICE_TOKEN must not be empty")
        if self.TWILIO_SEND and not (self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN):
            raise ValueError(
                "TWILIO_SEND=true needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "
                "(or set TWILIO_SEND=false: messages are then stored as not sent)"
            )
        if self.TWILIO_SEND and not TWILIO_ACCOUNT_SID_RE.match(self.TWILIO_ACCOUNT_SID or ""):
            raise ValueError("TWILIO_ACCOUNT_SID is not a Twilio account SID (AC + 32 hex)")
        if self.TWILIO_API_BASE_URL and self.VOORDEUR_ENV == "production":
            raise ValueError(
                "TWILIO_API_BASE_URL must not be set when VOORDEUR_ENV=production "
                "(it points the Twilio client, with the auth token, at another server)"
            )
        if self.VOORDEUR_NOTIFY_EXAMPLES and self.VOORDEUR_ENV == "production":
            raise ValueError(
                "VOORDEUR_NOTIFY_EXAMPLES must not be set when VOORDEUR_ENV=production "
                "(it sends to the placeholder addresses of example configurations)"
            )
        return self

    @property
    def public_base_url(self) -> str:
        """Where staff and Twilio reach this service (links in notifications)."""
        base = self.VOORDEUR_PUBLIC_API_URL or (
            f"http://{self.VOORDEUR_API_HOST}:{self.VOORDEUR_API_PORT}"
        )
        return base.rstrip("/")

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.VOORDEUR_CORS_ORIGINS.split(",") if o.strip()]

    @property
    def is_production(self) -> bool:
        return self.VOORDEUR_ENV == "production"


def describe_errors(exc: ValidationError) -> str:
    """One line per refused setting, for a start-up message (inputs are never included)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"])
        lines.append(message if not field or message.startswith(field) else f"{field}: {message}")
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached). Tests build their own ``Settings`` instead."""
    return Settings()
