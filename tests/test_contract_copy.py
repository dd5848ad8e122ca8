"""`contract/` is a byte-identical copy of the shared contract (`../shared/contract`, or
`$VOORDEUR_SHARED_DIR/contract`).

The tests read the repository's copy so that a clean clone stands alone; this test is what
keeps that copy honest wherever the shared folder is present. It skips only when the shared
folder does not exist (a clone on its own), never on a difference.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPO_CONTRACT = REPO / "contract"
ONLY_IN_REPO = {"README.md"}  # says that the folder is a copy and how it is checked


def shared_contract() -> Path:
    return Path(os.environ.get("VOORDEUR_SHARED_DIR", REPO.parent / "shared")) / "contract"


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_contract_copy_is_byte_identical_to_the_shared_contract() -> None:
    shared = shared_contract()
    if not shared.is_dir():
        pytest.skip(f"no shared contract at {shared} to compare with (set VOORDEUR_SHARED_DIR)")
    shared_files = _files(shared)
    repo_files = _files(REPO_CONTRACT) - ONLY_IN_REPO
    assert shared_files, f"{shared} holds no files"
    assert sorted(shared_files - repo_files) == [], "missing from contract/ (copy them)"
    assert sorted(repo_files - shared_files) == [], "in contract/ but not in the shared contract"
    differing = [
        name
        for name in sorted(shared_files)
        if (shared / name).read_bytes() != (REPO_CONTRACT / name).read_bytes()
    ]
    assert differing == [], f"contract/ differs from {shared}: copy these files again"
