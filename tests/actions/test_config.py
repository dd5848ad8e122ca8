"""actions.config is the one place the action server reads its environment."""

import re
from pathlib import Path

import pytest

from actions import knowledge, regions
from actions.config import REPO, Settings, SettingsError, get_settings


def test_defaults_suit_the_local_run() -> None:
    settings = get_settings({})
    assert settings == Settings(
        handover_api_url="http://127.0.0.1:8000",
        service_token="dev-service-token",
        outbox_path=REPO / "var" / "outbox.sqlite3",
        http_timeout=10.0,
        retry_seconds=30.0,
        data_dir=REPO / "data",
    )
    assert settings.knowledge_dir == REPO / "data" / "knowledge"
    assert settings.regions_dir == REPO / "data" / "regions"


def test_environment_is_read(tmp_path: Path) -> None:
    settings = get_settings(
        {
            "HANDOVER_API_URL": "http://api.internal:8000/",
            "VOORDEUR_SERVICE_TOKEN": "a-service-token",
            "VOORDEUR_VAR_DIR": str(tmp_path / "var"),
            "VOORDEUR_HTTP_TIMEOUT": "2.5",
            "VOORDEUR_RETRY_SECONDS": "5",
            "VOORDEUR_DATA_DIR": str(tmp_path / "data"),
        }
    )
    assert settings.handover_api_url == "http://api.internal:8000"
    assert settings.service_token == "a-service-token"
    assert settings.outbox_path == tmp_path / "var" / "outbox.sqlite3"
    assert (settings.http_timeout, settings.retry_seconds) == (2.5, 5.0)
    assert settings.regions_dir == tmp_path / "data" / "regions"
    explicit = get_settings({"VOORDEUR_OUTBOX": str(tmp_path / "box.sqlite3")})
    assert explicit.outbox_path == tmp_path / "box.sqlite3"


def test_settings_are_frozen() -> None:
    settings = get_settings({})
    with pytest.raises(AttributeError):
        settings.service_token = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("value", "reason"), [("soon", "a number"), ("0", "more than 0")])
def test_unusable_seconds_name_the_variable(value: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=f"VOORDEUR_HTTP_TIMEOUT must be {reason}"):
        get_settings({"VOORDEUR_HTTP_TIMEOUT": value})


def test_regions_and_knowledge_take_the_data_dir_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOORDEUR_DATA_DIR", str(tmp_path))
    assert regions.default_regions_dir() == tmp_path / "regions"
    assert knowledge.default_knowledge_dir() == tmp_path / "knowledge"
    monkeypatch.delenv("VOORDEUR_DATA_DIR")
    assert regions.default_regions_dir() == get_settings().regions_dir == REPO / "data" / "regions"


def test_no_other_action_module_reads_the_environment() -> None:
    reads = re.compile(r"os\.environ|os\.getenv|getenv\(")
    offenders = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "actions").rglob("*.py"))
        if path.name != "config.py" and reads.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
