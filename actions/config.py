"""Action server settings, read from the environment on each use (no globals at import).

- HANDOVER_API_URL (http://127.0.0.1:8000): base URL of the handover API
- VOORDEUR_SERVICE_TOKEN (dev-service-token): bearer token of the action server
- VOORDEUR_OUTBOX (<repo>/var/outbox.sqlite3): queue for handovers the API did not take
- VOORDEUR_HTTP_TIMEOUT (10): seconds per handover API call
- VOORDEUR_RETRY_SECONDS (30): pause between outbox delivery rounds
- VOORDEUR_DATA_DIR (<repo>/data): knowledge base, regions, consent texts
"""

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    handover_api_url: str
    service_token: str
    outbox_path: Path
    http_timeout: float
    retry_seconds: float
    data_dir: Path


def get_settings() -> Settings:
    var_dir = Path(os.environ.get("VOORDEUR_VAR_DIR", REPO / "var"))
    return Settings(
        handover_api_url=os.environ.get("HANDOVER_API_URL", "http://127.0.0.1:8000").rstrip("/"),
        service_token=os.environ.get("VOORDEUR_SERVICE_TOKEN", "dev-service-token"),
        outbox_path=Path(os.environ.get("VOORDEUR_OUTBOX", var_dir / "outbox.sqlite3")),
        http_timeout=float(os.environ.get("VOORDEUR_HTTP_TIMEOUT", "10")),
        retry_seconds=float(os.environ.get("VOORDEUR_RETRY_SECONDS", "30")),
        data_dir=Path(os.environ.get("VOORDEUR_DATA_DIR", REPO / "data")),
    )
