"""The Rasa server runs with one thread per numeric library, unless the operator says else."""

from pathlib import Path

import pytest

from voordeur_cli.stack import SERVING_THREADS, StackConfig


def test_rasa_is_served_with_one_thread_per_numeric_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in SERVING_THREADS:
        monkeypatch.delenv(name, raising=False)
    cfg = StackConfig(model=tmp_path / "model.tar.gz", var_dir=tmp_path)
    env = cfg.rasa_environment()
    assert {name: env[name] for name in SERVING_THREADS} == dict.fromkeys(SERVING_THREADS, "1")
    assert "OMP_NUM_THREADS" not in cfg.environment()  # the other services keep their pools


def test_an_operators_thread_setting_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    cfg = StackConfig(model=tmp_path / "model.tar.gz", var_dir=tmp_path)
    assert cfg.rasa_environment()["OMP_NUM_THREADS"] == "4"
