"""Action server settings: the one place where the action server reads its environment.

Every module takes its configuration from ``get_settings()``; nothing else in ``actions/``
reads ``os.environ``. The environment is read on each call (cheap, and tests can change it with
``monkeypatch.setenv``); nothing is read and no client is built at import time.

Environment variables (all optional; defaults suit the local run):

- ``HANDOVER_API_URL`` (``http://127.0.0.1:8000``): base URL of the handover API.
- ``VOORDEUR_SERVICE_TOKEN`` (``dev-service-token``): bearer token of the action server; the
  handover API refuses the placeholder in production.
- ``VOORDEUR_VAR_DIR`` (``<repo>/var``): folder for run-time files; default home of the outbox.
- ``VOORDEUR_OUTBOX`` (``$VOORDEUR_VAR_DIR/outbox.sqlite3``): queue for handovers the API did
  not take yet.
- ``VOORDEUR_HTTP_TIMEOUT`` (``10``): seconds per handover API call.
- ``VOORDEUR_RETRY_SECONDS`` (``30``): pause between outbox delivery rounds.
- ``VOORDEUR_DATA_DIR`` (``<repo>/data``): knowledge base (``knowledge/``), regions
  (``regions/``) and consent texts (``consent.yml``).
- ``VOORDEUR_CONVERSATION_RETENTION_DAYS`` (``14``): how long conversations without a handover
  are kept (the handover API enforces it); the assistant tells residents who ask.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """An environment variable of the action server has a value it cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the action server is configured with (see the module docstring)."""

    handover_api_url: str
    service_token: str
    outbox_path: Path
    http_timeout: float
    retry_seconds: float
    data_dir: Path
    conversation_retention_days: int = 14

    @property
    def knowledge_dir(self) -> Path:
        return self.data_dir / "knowledge"

    @property
    def regions_dir(self) -> Path:
        return self.data_dir / "regions"


def _seconds(environ: Mapping[str, str], name: str, default: str) -> float:
    """A positive number of seconds; a clear error naming the variable otherwise."""
    raw = environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def get_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``environ`` (default: the process environment), read now."""
    env = os.environ if environ is None else environ
    var_dir = Path(env.get("VOORDEUR_VAR_DIR") or REPO / "var")
    return Settings(
        handover_api_url=env.get("HANDOVER_API_URL", "http://127.0.0.1:8000").rstrip("/"),
        service_token=env.get("VOORDEUR_SERVICE_TOKEN", "dev-service-token"),
        outbox_path=Path(env.get("VOORDEUR_OUTBOX") or var_dir / "outbox.sqlite3"),
        http_timeout=_seconds(env, "VOORDEUR_HTTP_TIMEOUT", "10"),
        retry_seconds=_seconds(env, "VOORDEUR_RETRY_SECONDS", "30"),
        data_dir=Path(env.get("VOORDEUR_DATA_DIR") or REPO / "data"),
        conversation_retention_days=int(
            _seconds(env, "VOORDEUR_CONVERSATION_RETENTION_DAYS", "14")
        ),
    )
