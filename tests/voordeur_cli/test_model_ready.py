"""`./voordeur run` starts the services that need no model while Rasa still trains.

running_stack(model_ready=...) must start every group before the Rasa group at once, ask for
the model only when the Rasa group is next, start Rasa with that model, and stop what it
started when the training fails. The real services take a minute to start, so the plan here
is small Python processes with the real names and the real Rasa command line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from voordeur_cli import stack
from voordeur_cli.stack import Service, StackConfig

PENDING = Path("(being trained)")


def _sleeper(name: str, tmp_path: Path, extra: list[str]) -> Service:
    cmd = [sys.executable, "-c", "import time; time.sleep(60)", *extra]
    return Service(name, cmd, {}, None, 0.2, tmp_path / f"{name}.log")


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackConfig:
    def fake_plan(cfg: StackConfig, log_dir: Path) -> list[list[Service]]:
        return [
            [_sleeper("handover-api", tmp_path, [])],
            [_sleeper("action-server", tmp_path, [])],
            [_sleeper("rasa", tmp_path, ["--model", str(cfg.model)])],
            [_sleeper("worker", tmp_path, [])],
        ]

    monkeypatch.setattr(stack, "plan", fake_plan)
    monkeypatch.setattr(stack, "migrate", lambda cfg: None)
    return StackConfig(model=PENDING, var_dir=tmp_path)


def _alive(cfg: StackConfig, name: str) -> bool:
    proc = cfg.services[name].proc
    return proc is not None and proc.poll() is None


def test_services_without_a_model_start_first_and_rasa_gets_the_trained_model(
    cfg: StackConfig, tmp_path: Path
) -> None:
    trained = tmp_path / "20261203-model.tar.gz"
    seen_when_asked: list[str] = []

    def model_ready() -> Path:
        seen_when_asked.extend(name for name in cfg.services if _alive(cfg, name))
        return trained

    with stack.running_stack(cfg, model_ready=model_ready) as running:
        assert seen_when_asked == ["handover-api", "action-server"]
        assert running.model == trained
        assert running.services["rasa"].cmd[-2:] == ["--model", str(trained)]
        assert _alive(running, "rasa") and _alive(running, "worker")
    assert not any(_alive(cfg, name) for name in cfg.services)


def test_a_failed_training_stops_what_was_started(cfg: StackConfig) -> None:
    def model_ready() -> Path:
        raise SystemExit("rasa train failed (exit code 1)")

    with (
        pytest.raises(SystemExit, match="rasa train failed"),
        stack.running_stack(cfg, model_ready=model_ready),
    ):
        pytest.fail("the stack must not run without a model")
    assert set(cfg.services) == {"handover-api", "action-server"}
    assert not any(_alive(cfg, name) for name in cfg.services)


def test_without_model_ready_the_given_model_is_used(cfg: StackConfig, tmp_path: Path) -> None:
    cfg.model = tmp_path / "given.tar.gz"
    with stack.running_stack(cfg) as running:
        assert running.services["rasa"].cmd[-2:] == ["--model", str(cfg.model)]
