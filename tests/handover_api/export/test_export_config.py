"""The ``export:`` block of an organisation in the region YAML (services/directory.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handover_api.services import directory as directory_module
from handover_api.services.directory import DirectoryError, load_directory
from tests.handover_api.conftest import REPO_ROOT

PEEL61_TEAMS = "    teams:\n      - id: werk-inkomen\n"


def _data_with(tmp_path: Path, block: str) -> Path:
    """A copy of data/regions with ``block`` added to peel61."""
    regions = tmp_path / "regions"
    shutil.copytree(
        REPO_ROOT / "data" / "regions", regions, ignore=shutil.ignore_patterns("outside")
    )
    path = regions / "peelland.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count(PEEL61_TEAMS) == 1
    path.write_text(text.replace(PEEL61_TEAMS, block + PEEL61_TEAMS), encoding="utf-8")
    directory_module.clear_cache()
    return tmp_path


def test_every_organisation_defaults_to_no_export() -> None:
    directory = load_directory(REPO_ROOT / "data")
    exporting = {o.id: o.export for o in directory.organisations.values() if o.export}
    # Only Helmond's example block, and it is marked example.
    assert set(exporting) == {"gemeente-helmond"}
    config = exporting["gemeente-helmond"]
    assert config.kind == "klantinteracties" and config.example
    assert config.token_env == "VOORDEUR_KLANTINTERACTIES_TOKEN_HELMOND"


def test_export_block_is_read(tmp_path: Path) -> None:
    data = _data_with(
        tmp_path,
        "    export:\n"
        "      kind: klantinteracties\n"
        "      base_url: https://openklant.example.nl/klantinteracties/api/v1/\n"
        "      token_env: SENZER_KI_TOKEN\n"
        "      team_actor_identifier: senzer\n"
        "      team_actors: {werk-inkomen: senzer-wi}\n"
        "      kanalen: {web: chat}\n"
        "      example: false\n",
    )
    org = load_directory(data).organisation("peel61")
    assert org is not None and org.export is not None
    assert org.export.base_url == "https://openklant.example.nl/klantinteracties/api/v1"
    assert org.export.team_actor_for("werk-inkomen") == "senzer-wi"
    assert org.export.team_actor_for("other") == "senzer"
    assert dict(org.export.kanalen) == {"web": "chat"}
    assert not org.export.example


def test_kind_none_is_no_export(tmp_path: Path) -> None:
    data = _data_with(tmp_path, "    export: {kind: none}\n")
    org = load_directory(data).organisation("peel61")
    assert org is not None and org.export is None


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ("    export: {kind: zgw}\n", "export.kind"),
        ("    export: {kind: klantinteracties, token: geheim}\n", "export.token"),
        ("    export: {kind: klantinteracties, token_env: 'lower case'}\n", "export.token_env"),
    ],
)
def test_malformed_export_block_is_refused(tmp_path: Path, block: str, field: str) -> None:
    data = _data_with(tmp_path, block)
    with pytest.raises(DirectoryError) as info:
        load_directory(data)
    assert field in info.value.field
