"""The constants copied from the contract (`contract/`, a copy of shared/contract) match it."""

from __future__ import annotations

import re
from pathlib import Path

from handover_api.contract import CRISIS_TYPES, LIFE_DOMAIN_CODES


def _keys_of_block(yaml_text: str, block: str) -> list[str]:
    """Keys of a top-level mapping in simple YAML (``block:`` then ``  key: ...`` lines)."""
    keys: list[str] = []
    inside = False
    for line in yaml_text.splitlines():
        if re.match(rf"^{block}:\s*$", line):
            inside = True
            continue
        if inside:
            if line and not line.startswith((" ", "#")):
                break
            match = re.match(r"^  ([a-z_]+):", line)
            if match:
                keys.append(match.group(1))
    return keys


def test_life_domain_codes_match_the_contract(contract_dir: Path) -> None:
    text = (contract_dir / "life_domains.yml").read_text(encoding="utf-8")
    assert tuple(_keys_of_block(text, "domains")) == LIFE_DOMAIN_CODES
    assert tuple(_keys_of_block(text, "crisis_types")) == CRISIS_TYPES
