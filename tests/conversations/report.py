"""Runs the conversation suite and prints the pass rate per pattern and the failing turns.

Against a running system (e.g. `./voordeur run`, whose handover database is var/):

    .venv-api/bin/python -m tests.conversations.report \\
        --rasa-url http://127.0.0.1:5005 --api-url http://127.0.0.1:8000

Handover checks need a staff token per receiving organisation: made with the handover API's
CLI (`create-user`) in the environment of the running API, which `--service-env KEY=VALUE`
adjusts (e.g. `--service-env DATABASE_URL=sqlite:////path/handover.sqlite3`), or given with
`--token ORGANISATION=TOKEN`. `--no-handover` skips the handover checks.

Or start a fresh system on free ports for the run, as the end-to-end tests do (needs a trained
model: `./voordeur train`):

    .venv-api/bin/python -m tests.conversations.report --start

`--start` keeps its logs and databases in a temporary directory it names.
`--pattern`/`--id` select conversations, `--verbose` prints every failing conversation whole,
`--json FILE` writes the results, `--strict` exits 1 when a conversation failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tests.conversations.suite import (
    PATTERN_MINIMUMS,
    ConversationResult,
    load_suite,
    pass_rates,
    run_conversation,
)
from voordeur_cli.paths import REPO, api_bin
from voordeur_cli.stack import StackConfig, free_port, running_stack

REPORT_SERVICE_TOKEN = "conversation-report-token-0123456789"


def cli_token_provider(
    environment: dict[str, str], given: dict[str, str] | None = None
) -> Callable[[str], str]:
    """organisation -> bearer token: `given` ones first, else a new staff user made through
    `handover_api.cli create-user` in `environment` (once per organisation)."""
    tokens = dict(given or {})

    def token_for(organisation: str) -> str:
        if organisation not in tokens:
            username = f"conv-report-{organisation}-{uuid.uuid4().hex[:6]}"
            out = subprocess.run(
                [
                    str(api_bin()),
                    "-m",
                    "handover_api.cli",
                    "create-user",
                    "--username",
                    username,
                    "--organisation",
                    organisation,
                    "--display-name",
                    username,
                ],
                cwd=REPO,
                env=environment,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            words = [w for line in out.splitlines() for w in line.split() if len(w) >= 32]
            if not words:
                raise RuntimeError(f"create-user printed no token for {organisation}: {out!r}")
            tokens[organisation] = words[-1]
        return tokens[organisation]

    return token_for


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"{option} expects KEY=VALUE, got {value!r}")
        pairs[key] = rest
    return pairs


@contextlib.contextmanager
def started_stack() -> Iterator[StackConfig]:
    """The whole system on free ports with a fresh SQLite database (like the e2e fixture)."""
    from voordeur_cli.main import latest_model

    model = latest_model()
    if model is None:
        raise SystemExit("no trained model: run ./voordeur train first")
    var_dir = Path(tempfile.mkdtemp(prefix="voordeur-conversations-"))
    cfg = StackConfig(
        model=model,
        api_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
        var_dir=var_dir,
        service_token=REPORT_SERVICE_TOKEN,
        env="test",
    )
    print(f"Starting the system (model {model.name}, files in {var_dir}) ...", flush=True)
    try:
        with running_stack(cfg, log_dir=var_dir / "logs"):
            yield cfg
    finally:
        print(f"Logs and databases of this run: {var_dir}", flush=True)


def summary(results: Sequence[ConversationResult], verbose: bool = False) -> str:
    """Pass rate per pattern and overall, then the failing turns (or whole conversations)."""
    lines = ["", "Pass rate per pattern", "---------------------"]
    rates = pass_rates(results)
    for pattern in [*PATTERN_MINIMUMS, "overall"]:
        if pattern not in rates:
            continue
        passed, total = rates[pattern]
        if pattern == "overall":
            lines.append("-" * 44)
        lines.append(f"{pattern:<26} {passed:>3}/{total:<3} {100 * passed / total:5.1f}%")
    lines += latency_lines(results)
    failing = [r for r in results if not r.passed]
    if failing:
        lines += ["", f"Failing conversations ({len(failing)})", "----------------------"]
    for result in failing:
        if verbose:
            lines += [result.report(), ""]
            continue
        conv = result.conversation
        lines.append(f"{conv.id} [{conv.pattern}, {conv.channel}] {conv.about}")
        for turn in result.failing_turns():
            failures = [f for f in result.failures if f.turn == turn]
            lines.append(f"  turn {turn}: {conv.turns[turn - 1].user[:90]!r}")
            lines.extend(f"    x {f.expectation}: {f.detail}" for f in failures)
            bot = " / ".join(failures[0].bot_text.splitlines()) or "<no reply>"
            lines.append(f"    bot: {bot[:400]}")
        lines.extend(
            f"  handover: {f.expectation}: {f.detail}" for f in result.failures if f.turn is None
        )
    return "\n".join(lines)


def latency_lines(results: Sequence[ConversationResult]) -> list[str]:
    """Reply time per turn (REST channel, whole stack), per pattern and overall."""
    lines = [
        "",
        "Reply time per turn (p50 / p95 / max, ms)",
        "-----------------------------------------",
    ]
    groups = {
        p: [s for r in results if r.conversation.pattern == p for s in r.seconds]
        for p in PATTERN_MINIMUMS
    }
    groups["overall"] = [s for r in results for s in r.seconds]
    for name, seconds in groups.items():
        if not seconds:
            continue
        ordered = sorted(seconds)
        p50 = ordered[len(ordered) // 2]
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        lines.append(
            f"{name:<26} {1000 * p50:5.0f} / {1000 * p95:5.0f} / {1000 * ordered[-1]:5.0f}"
            f"  ({len(ordered)} turns)"
        )
    return lines


def to_json(results: Sequence[ConversationResult]) -> dict[str, object]:
    return {
        "pass_rates": {k: {"passed": p, "total": t} for k, (p, t) in pass_rates(results).items()},
        "conversations": [
            {
                "id": r.conversation.id,
                "pattern": r.conversation.pattern,
                "channel": r.conversation.channel,
                "passed": r.passed,
                "reference": r.reference,
                "failures": [
                    {
                        "turn": f.turn,
                        "expectation": f.expectation,
                        "detail": f.detail,
                        "bot_text": f.bot_text,
                    }
                    for f in r.failures
                ],
                "replies": [list(reply.messages) for reply in r.replies],
            }
            for r in results
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.conversations.report", description=__doc__.split("\n\n")[0]
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--start", action="store_true", help="start a fresh system on free ports")
    target.add_argument("--rasa-url", help="Rasa server of a running system")
    parser.add_argument("--api-url", help="handover API of that system (for handover checks)")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for creating staff users (e.g. DATABASE_URL=...)",
    )
    parser.add_argument(
        "--token", action="append", default=[], metavar="ORG=TOKEN", help="a staff token to use"
    )
    parser.add_argument("--no-handover", action="store_true", help="skip the handover checks")
    parser.add_argument("--pattern", action="append", default=[], choices=sorted(PATTERN_MINIMUMS))
    parser.add_argument("--id", action="append", default=[], dest="ids", metavar="ID")
    parser.add_argument("--verbose", action="store_true", help="print failing conversations whole")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a conversation failed")
    args = parser.parse_args(argv)

    conversations = [
        c
        for c in load_suite()
        if (not args.pattern or c.pattern in args.pattern) and (not args.ids or c.id in args.ids)
    ]
    if not conversations:
        raise SystemExit("no conversation matches --pattern/--id")
    if not args.start and not args.api_url and not args.no_handover:
        print("no --api-url: the handover checks are skipped", file=sys.stderr)
    tokens = _pairs(args.token, "--token")
    service_env = _pairs(args.service_env, "--service-env")

    def run_all(
        rasa_url: str, api_url: str | None, env: dict[str, str]
    ) -> list[ConversationResult]:
        token_for = None if args.no_handover or not api_url else cli_token_provider(env, tokens)
        results = []
        for i, conversation in enumerate(conversations, 1):
            result = run_conversation(conversation, rasa_url, api_url=api_url, token_for=token_for)
            mark = "ok  " if result.passed else "FAIL"
            print(f"[{i:>3}/{len(conversations)}] {mark} {conversation.id}", flush=True)
            results.append(result)
        return results

    if args.start:
        with started_stack() as cfg:
            env = {**cfg.environment(), **service_env}
            results = run_all(cfg.rasa_url, cfg.api_url, env)
    else:
        # The default environment is the one `./voordeur run` gives its API (database in var/).
        env = {**StackConfig(model=Path("unused")).environment(), **service_env}
        results = run_all(args.rasa_url, args.api_url, env)

    print(summary(results, verbose=args.verbose))
    if args.json:
        args.json.write_text(json.dumps(to_json(results), ensure_ascii=False, indent=2))
        print(f"\nResults written to {args.json}")
    return 1 if args.strict and not all(r.passed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
