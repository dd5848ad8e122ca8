"""`voordeur train` validates the data in a second process while Rasa trains.

The real commands take minutes, so these tests put small Python programs in their place and
check what the resident-facing result depends on: a model comes out when both succeed, and a
validation failure stops the training and says why.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from voordeur_cli import envs, main


def _program(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(envs, "ensure_rasa_env", lambda: None)
    monkeypatch.setattr(main, "MODELS", tmp_path)
    return tmp_path


def test_the_commands_split_validation_from_training() -> None:
    train = main.train_command()
    validate = main.validate_command()
    assert train[1:2] == ["train"] and "--skip-validation" in train
    assert validate[1:3] == ["data", "validate"]
    # The same config, domain and data for both.
    assert train[2 : train.index("--out")] == validate[3:]
    assert "--force" in main.train_command(force=True)


def test_a_model_comes_out_when_validation_and_training_succeed(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = models / "20261203-model.tar.gz"
    monkeypatch.setattr(main, "validate_command", lambda: _program("import time; time.sleep(0.3)"))
    monkeypatch.setattr(
        main,
        "train_command",
        lambda force=False: _program(f"open({str(model)!r}, 'w').write('model')"),
    )
    started = time.monotonic()
    assert main.train() == model
    assert time.monotonic() - started < 5


def test_failed_validation_stops_training_and_shows_the_report(
    models: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = models / "trained-anyway"
    monkeypatch.setattr(
        main,
        "validate_command",
        lambda: _program("print('Domain error: intent greet not found'); raise SystemExit(1)"),
    )
    monkeypatch.setattr(
        main,
        "train_command",
        lambda force=False: _program(
            f"import time; time.sleep(10); open({str(marker)!r}, 'w').write('x')"
        ),
    )
    started = time.monotonic()
    with pytest.raises(SystemExit, match="did not pass validation"):
        main.train()
    assert time.monotonic() - started < 5, "training was not stopped"
    assert not marker.exists()
    assert "intent greet not found" in capsys.readouterr().out


def test_a_failed_training_is_reported(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main, "validate_command", lambda: _program("pass"))
    monkeypatch.setattr(main, "train_command", lambda force=False: _program("raise SystemExit(3)"))
    with pytest.raises(SystemExit, match="exit code 3"):
        main.train()
