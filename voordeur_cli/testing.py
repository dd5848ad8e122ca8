"""The test command: every check CI runs, in the order that fails fastest.

Each step runs in the environment it belongs to; the summary at the end names the steps that
failed. PostgreSQL is required here (VOORDEUR_REQUIRE_PG=1): the production profile is tested,
not assumed. So is Debian's Chromium for the staff page browser test
(VOORDEUR_REQUIRE_BROWSER=1), installed before the API tests when missing; the same run
tests the resident's chat widget (tests/web). Lint covers tests/web through "tests".
"""

import os
import subprocess
import sys
import time
from collections.abc import Callable

from voordeur_cli import envs, system
from voordeur_cli.paths import REPO, api_bin, rasa_bin

Step = tuple[str, Callable[[], bool]]


def _run(cmd: list[str], env: dict[str, str] | None = None) -> bool:
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    full_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        **(env or {}),
    }
    return (
        subprocess.run([str(c) for c in cmd], cwd=REPO, env=full_env, check=False).returncode == 0
    )


def _postgres() -> bool:
    return system.ensure_postgres()


def _lint() -> bool:
    ruff = api_bin("ruff")
    targets = [
        "actions",
        "handover_api",
        "privacy",
        "applications",
        "common",
        "voordeur_cli",
        "bot",
        "tests",
        "voordeur",
    ]
    return all(
        [
            _run([ruff, "check", *targets]),
            _run([ruff, "format", "--check", *targets]),
            _run([api_bin("mypy"), "--config-file", "handover_api/mypy.ini", "handover_api"]),
        ]
    )


def _api_tests() -> bool:
    # The staff pages and the chat widget are tested in Debian's Chromium; a missing browser
    # fails, not skips.
    system.ensure_chromium()
    return _run(
        [
            api_bin("python"),
            "-m",
            "pytest",
            "tests/handover_api",
            "tests/web",  # the resident's chat widget in Chromium, against a fake Rasa
            "tests/privacy",
            "tests/applications",
            "tests/common",
            "tests/voordeur_cli",
            "tests/test_contract_copy.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        env={"VOORDEUR_REQUIRE_PG": "1", "VOORDEUR_REQUIRE_BROWSER": "1"},
    )


def _validate_data() -> bool:
    from voordeur_cli.main import validate_command  # main imports this module lazily too

    return _run(validate_command())


def _rasa_side_tests() -> bool:
    return _run(
        [
            rasa_bin("python"),
            "-m",
            "pytest",
            "tests/actions",
            "tests/bot",
            "tests/data",
            "tests/conversations",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
    )


TRAIN_LOG = REPO / "var" / "train.log"


def _finish_training(training: subprocess.Popen[bytes]) -> bool:
    """Waits for the background training; its log's tail when it failed."""
    from voordeur_cli.main import latest_model

    code = training.wait()
    lines = TRAIN_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
    print("\n".join(lines[-(40 if code else 3) :]), flush=True)
    print(f"  (whole log: {TRAIN_LOG})", flush=True)
    return code == 0 and latest_model() is not None


def _story_tests() -> bool:
    from voordeur_cli.main import latest_model

    return _run(
        [
            rasa_bin("rasa"),
            "test",
            "core",
            "--model",
            latest_model(),
            "--stories",
            "tests/bot/stories",
            "--fail-on-prediction-errors",
            "--out",
            "results/core",
        ]
    )


def _e2e() -> bool:
    return _run([api_bin("python"), "-m", "pytest", "tests/e2e", "-q", "-p", "no:cacheprovider"])


def run_all(quick: bool = False) -> int:
    started = time.monotonic()
    envs.ensure_all()
    steps: list[Step] = [
        ("postgresql", _postgres),
        ("lint and types", _lint),
        ("handover API tests", _api_tests),
        ("training data validation", _validate_data),
        ("actions and NLU component tests", _rasa_side_tests),
    ]
    if not quick:
        # On a 2-core machine training takes most of the run: it starts now, in the
        # background, and the steps that need no model run meanwhile.
        from voordeur_cli.main import train_process

        print(f"\n=== training starts in the background (log: {TRAIN_LOG})", flush=True)
        training = train_process(TRAIN_LOG)
        steps += [
            ("training", lambda: _finish_training(training)),
            ("story tests", _story_tests),
            ("end-to-end", _e2e),
        ]
    results: list[tuple[str, bool]] = []
    for name, step in steps:
        print(f"\n=== {name}", flush=True)
        try:
            ok = step()
        except Exception as exc:  # a crashing step is a failed step, and the rest still run
            print(f"  {name} crashed: {exc!r}", flush=True)
            ok = False
        results.append((name, ok))
    failed = [name for name, ok in results if not ok]
    print(f"\n=== summary ({time.monotonic() - started:.0f} s)")
    for name, ok in results:
        print(f"  {'ok  ' if ok else 'FAIL'}  {name}")
    print(f"steps: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


def run_bench(what: str) -> int:
    """One part of the benchmarks, or `all` of them and then the summary (var/bench/summary.json
    and summary.svg from the JSON each part writes under var/bench/; docs/benchmarks.md)."""
    envs.ensure_all()
    ok = True
    if what in ("all", "api"):
        # Creates/s and list p95 with 100,000 handovers, SQLite and PostgreSQL (issue 14).
        if _postgres():
            database = "both"
        else:
            print("  PostgreSQL unavailable: measuring SQLite only", flush=True)
            database = "sqlite"
        ok &= _run(
            [
                *(api_bin("python"), "tests/bench/api_latency.py", "--seed", "100000"),
                *("--database", database, "--workers", "2", "--n", "1000", "--concurrency", "16"),
            ]
        )
    if what in ("all", "staff"):
        # The staff workspace at realistic volumes (5000 handovers, 20000 conversations).
        ok &= _run([api_bin("python"), "tests/bench/staff_workspace.py"])
    if what in ("all", "notify"):
        # How fast a team hears of a handover; the escalation runner on a backlog.
        ok &= _run([api_bin("python"), "tests/bench/team_notifications.py"])
    if what in ("all", "nlu"):
        # bot/config.yml vs the sparse-only config vs Rasa's default pipeline.
        ok &= _run([rasa_bin("python"), "tests/bench/nlu_crossval.py", "--folds", "3"])
    if what in ("all", "crisis"):
        ok &= _run([rasa_bin("python"), "tests/bench/life_domains_bench.py"])
        ok &= _run([rasa_bin("python"), "tests/bench/crisis_similarity.py"])
    if what in ("all", "conversations"):
        # The multi-turn suite against a freshly started system (needs a trained model).
        ok &= _run([api_bin("python"), "-m", "tests.conversations.report", "--start"])
    if what in ("all", "turns"):
        # Turns/s next to a `rasa init` bot, latency at 5/15/30 msg/s, the Twilio webhook.
        ok &= _run([api_bin("python"), "tests/bench/rasa_turns.py"])
    if what in ("all", "scale"):
        # 1 and 2 Rasa instances on the production profile (when that bench exists).
        scale = REPO / "tests" / "bench" / "scale_out.py"
        if scale.is_file():
            ok &= _run([api_bin("python"), str(scale.relative_to(REPO))])
        else:
            print(f"  {scale.relative_to(REPO)} does not exist: scale-out not measured")
    if what in ("all", "memory"):
        # Peak resident set of each service under a closed-loop load.
        ok &= _run([api_bin("python"), "tests/bench/resources.py", "memory"])
    if what in ("all", "train"):
        # Time and peak memory of `rasa train --force` (into a temporary directory).
        ok &= _run([api_bin("python"), "tests/bench/resources.py", "train"])
    if what in ("all", "first-answer"):
        # A clean clone's `./voordeur run` until the first answer (downloads, trains: minutes).
        ok &= _run([api_bin("python"), "tests/bench/first_answer.py"])
    if what in ("all", "summary"):
        ok &= _run([api_bin("python"), "tests/bench/summary.py"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_all())
