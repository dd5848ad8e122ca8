"""Turns per second and turn latency of the Rasa server, side by side with the bare framework.

The baseline is Rasa's own `rasa init` bot (the framework's starter project, trained by this
script in var/bench/rasa-init with the same Rasa on the same machine; built once, reused when
present). Both servers run at the same time, so the comparison happens in one run:

1. closed loop: `--senders` residents at once, each sending its next message as soon as the
   answer is in (Voordeur: the user turns of tests/conversations/*.yml, a new sender id per
   conversation; baseline: `rasa init`'s own moodbot conversations). Rounds alternate between
   the two bots; reported: turns/s, the Rasa process's CPU time per turn, latency, errors.
2. open load (Voordeur): 50 conversations together sending `rate` messages per second in
   total, each resident waiting for the answer before the next message (5, 15, 30 msg/s).
3. the Twilio webhook (SMS/WhatsApp): signed POSTs at a steady rate; p50/p95/p99.

    .venv-api/bin/python tests/bench/rasa_turns.py [--seconds 20] [--senders 20]
        [--rates 5,15,30] [--out var/bench/turns.json]

Loopback only, bounded loads; a benchmark that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.resources import group_pids  # noqa: E402
from tests.conversations.suite import load_suite  # noqa: E402
from voordeur_cli.main import latest_model  # noqa: E402
from voordeur_cli.paths import VAR, rasa_bin  # noqa: E402
from voordeur_cli.stack import (  # noqa: E402
    DEV_TWILIO_AUTH_TOKEN,
    StackConfig,
    free_port,
    running_stack,
)

BASELINE_DIR = VAR / "bench" / "rasa-init"
# The conversations of `rasa init`'s data/stories.yml and rules.yml, as a resident types them.
BASELINE_SCRIPTS = [
    ["hello", "I am sad", "yes", "bye"],
    ["hi", "I am great", "goodbye"],
    ["hey there", "very sad", "no", "bye bye"],
    ["good morning", "are you a bot?", "I am happy", "see you later"],
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every process in process group `pgid` (all threads)."""
    total = 0
    for pid in group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        # after the command: state ppid pgrp session ... utime(14) stime(15)
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def local_stack(model: Path, prefix: str) -> StackConfig:
    """The local profile on free ports, its databases and logs in a new temporary folder."""
    return StackConfig(
        model=model,
        api_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
        var_dir=Path(tempfile.mkdtemp(prefix=prefix)),
        env="test",
    )


def write_report(out: Path, report: dict[str, Any]) -> None:
    """The bench's figures as JSON (read by tests/bench/summary.py)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"Written: {out}")


def voordeur_scripts() -> list[list[str]]:
    """The user turns of every conversation in the conversation suite."""
    return [[turn.user for turn in conv.turns] for conv in load_suite()]


# --- the baseline bot ----------------------------------------------------------------------


def rasa_env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def baseline_model(directory: Path = BASELINE_DIR) -> tuple[Path, float | None]:
    """The trained `rasa init` bot in `directory` (made by `rasa init` when missing) and the
    seconds `rasa init` took (None when it was already there)."""
    models = sorted((directory / "models").glob("*.tar.gz"))
    if models:
        return models[-1], None
    directory.mkdir(parents=True, exist_ok=True)
    print(f"Building the baseline with `rasa init` in {directory} ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [str(rasa_bin("rasa")), "init", "--no-prompt", "--init-dir", str(directory)],
        cwd=directory,
        env=rasa_env(),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    return sorted((directory / "models").glob("*.tar.gz"))[-1], seconds


def wait_for(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def baseline_server(model: Path, log: Path) -> Iterator[tuple[str, int]]:
    """`rasa run` of the baseline bot with its own endpoints (in-memory tracker store)."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(rasa_bin("rasa")), "run", "--enable-api", "--port", str(port), "-m", str(model)],
            cwd=model.parent.parent,
            env=rasa_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/status")
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


# --- load ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load run measured."""

    name: str
    seconds: float
    turns: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    offered_rate: float | None = None

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "name": self.name,
            "turns": self.turns,
            "errors": self.errors,
            "seconds": round(self.seconds, 1),
            "offered_msg_per_s": self.offered_rate,
            "turns_per_s": round(self.turns / self.seconds, 2) if self.seconds else 0.0,
            "cpu_ms_per_turn": round(1000 * self.cpu_seconds / self.turns, 1)
            if self.turns
            else None,
            "p50_ms": round(pct(lat, 50), 1),
            "p95_ms": round(pct(lat, 95), 1),
            "p99_ms": round(pct(lat, 99), 1),
            "max_ms": round(max(lat), 1) if lat else 0.0,
        }


async def _post_turn(
    client: httpx.AsyncClient, url: str, sender: str, text: str, result: LoadResult
) -> None:
    started = time.perf_counter()
    try:
        response = await client.post(
            url, json={"sender": sender, "message": text, "metadata": {"channel": "web"}}
        )
        ok = response.status_code == 200 and isinstance(response.json(), list)
    except httpx.HTTPError:
        ok = False
    result.latencies_ms.append(1000 * (time.perf_counter() - started))
    result.turns += 1
    result.errors += 0 if ok else 1


async def closed_loop(
    rasa_url: str, scripts: list[list[str]], senders: int, seconds: float, name: str
) -> LoadResult:
    """`senders` residents, each sending its next message when the answer is in."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    result = LoadResult(name=name, seconds=seconds)
    deadline = time.monotonic() + seconds
    run = uuid.uuid4().hex[:6]

    async def resident(index: int, client: httpx.AsyncClient) -> None:
        number = 0
        while time.monotonic() < deadline:
            script = scripts[(index + number * senders) % len(scripts)]
            sender = f"bench-{run}-{index}-{number}"
            number += 1
            for text in script:
                if time.monotonic() >= deadline:
                    return
                await _post_turn(client, url, sender, text, result)

    limits = httpx.Limits(max_connections=senders + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.monotonic()
        await asyncio.gather(*(resident(i, client) for i in range(senders)))
        result.seconds = time.monotonic() - started
    return result


async def paced_residents(
    scripts: list[list[str]],
    conversations: int,
    rate: float,
    seconds: float,
    send: Callable[[str, str], Awaitable[None]],
    seed: int,
) -> float:
    """`conversations` residents at once sending `rate` messages per second together: each
    sends every `conversations / rate` seconds, later when its previous answer is not in yet
    (a resident reads the answer before typing on). `send(conversation, text)` sends one
    message and waits for the answer. Returns the seconds it took."""
    interval = conversations / rate
    rng = random.Random(seed)

    async def resident(index: int) -> None:
        start = time.monotonic()
        next_at = start + rng.uniform(0, interval)
        number = 0
        while True:
            script = scripts[(index + number * conversations) % len(scripts)]
            conversation = f"{index}-{number}"
            number += 1
            for text in script:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() - start >= seconds:
                    return
                await send(conversation, text)
                next_at += interval

    started = time.monotonic()
    await asyncio.gather(*(resident(i) for i in range(conversations)))
    return time.monotonic() - started


async def open_load(
    rasa_url: str, scripts: list[list[str]], rate: float, seconds: float, conversations: int = 50
) -> LoadResult:
    """The REST channel under `paced_residents`."""
    url = f"{rasa_url}/webhooks/rest/webhook"
    result = LoadResult(name=f"open {rate:g}/s", seconds=seconds, offered_rate=rate)
    run = uuid.uuid4().hex[:6]
    limits = httpx.Limits(max_connections=conversations + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def send(conversation: str, text: str) -> None:
            await _post_turn(client, url, f"open-{run}-{conversation}", text, result)

        result.seconds = await paced_residents(scripts, conversations, rate, seconds, send, 7)
    return result


async def twilio_load(
    rasa_url: str, auth_token: str, scripts: list[list[str]], rate: float, seconds: float
) -> LoadResult:
    """Signed Twilio webhooks (SMS) under `paced_residents`, a message every ~3 s each."""
    url = f"{rasa_url}/webhooks/twilio/webhook"
    validator = RequestValidator(auth_token)
    result = LoadResult(name=f"twilio {rate:g}/s", seconds=seconds, offered_rate=rate)
    phones: dict[str, str] = {}
    rng = random.Random(11)
    async with httpx.AsyncClient(timeout=60) as client:

        async def send(conversation: str, text: str) -> None:
            phone = phones.setdefault(conversation, f"+3161{rng.randrange(10**7):07d}")
            form = {
                "From": phone,
                "To": "+3197000000000",
                "Body": text,
                "MessageSid": f"SM{uuid.uuid4().hex}",
                "NumMedia": "0",
            }
            headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
            started = time.perf_counter()
            try:
                response = await client.post(url, data=form, headers=headers)
                ok = response.status_code in (200, 204)
            except httpx.HTTPError:
                ok = False
            result.latencies_ms.append(1000 * (time.perf_counter() - started))
            result.turns += 1
            result.errors += 0 if ok else 1

        conversations = max(1, int(rate * 3))
        result.seconds = await paced_residents(scripts, conversations, rate, seconds, send, 11)
    return result


def measured(pgid: int, run: Any) -> LoadResult:
    """Runs the coroutine `run` and charges the Rasa process group's CPU time to it."""
    before = group_cpu_seconds(pgid)
    result: LoadResult = asyncio.run(run)
    result.cpu_seconds = group_cpu_seconds(pgid) - before
    return result


def start_profile(py_spy: Path, pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the process for `seconds`; collapsed stacks in <out>.profile.txt."""
    target = out.with_suffix(".profile.txt")
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"  (profiling the Rasa process into {target})", flush=True)
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(seconds)),
            "-r",
            "100",
            "-f",
            "raw",
            "-o",
            str(target),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def line(summary: dict[str, Any]) -> str:
    cpu = summary["cpu_ms_per_turn"]
    return (
        f"  {summary['name']:<22} {summary['turns_per_s']:>7.1f} turns/s  "
        f"cpu {cpu if cpu is not None else '-':>6} ms/turn  p50 {summary['p50_ms']:>7.1f}  "
        f"p95 {summary['p95_ms']:>7.1f}  p99 {summary['p99_ms']:>7.1f} ms  "
        f"errors {summary['errors']}/{summary['turns']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per closed-loop round")
    parser.add_argument("--rounds", type=int, default=2, help="closed-loop rounds per bot")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--rates", default="5,15,30", help="open loads in msg/s")
    parser.add_argument("--open-seconds", type=float, default=30.0)
    parser.add_argument("--twilio-rate", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=VAR / "bench" / "turns.json")
    parser.add_argument("--endpoints", type=Path, help="another endpoints file (comparisons)")
    parser.add_argument("--model", type=Path, help="another Voordeur model (comparisons)")
    parser.add_argument("--skip-open", action="store_true", help="closed loop only")
    parser.add_argument(
        "--py-spy",
        type=Path,
        help="py-spy executable: profile the Rasa process during the first Voordeur round "
        "(collapsed stacks next to --out)",
    )
    args = parser.parse_args()

    model = args.model.resolve() if args.model else latest_model()
    if model is None:
        print("no trained model: run ./voordeur train first", file=sys.stderr)
        return 1
    base_model, init_seconds = baseline_model()
    scripts = voordeur_scripts()
    cfg = local_stack(model, "voordeur-turns-")
    work = cfg.var_dir
    if args.endpoints:
        cfg.endpoints = args.endpoints.resolve()
    print(
        f"Voordeur model {model.name}; baseline {base_model}; {len(scripts)} conversations; "
        f"{args.senders} senders; logs in {work}",
        flush=True,
    )
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "baseline_init_seconds": init_seconds,
        "closed_loop": {"voordeur": [], "rasa_init": []},
    }
    with (
        running_stack(cfg, work / "logs"),
        baseline_server(base_model, work / "baseline.log") as (
            base_url,
            base_pid,
        ),
    ):
        rasa_pid = cfg.pids["rasa"]
        print("Warming up both bots ...", flush=True)
        asyncio.run(closed_loop(cfg.rasa_url, scripts, 4, 8, "warm-up"))
        asyncio.run(closed_loop(base_url, BASELINE_SCRIPTS, 4, 5, "warm-up"))
        print(f"Closed loop, {args.senders} senders, {args.seconds:g} s per round:")
        for _ in range(args.rounds):
            for key, url, pid, bot_scripts in (
                ("voordeur", cfg.rasa_url, rasa_pid, scripts),
                ("rasa_init", base_url, base_pid, BASELINE_SCRIPTS),
            ):
                profiler = None
                if args.py_spy and key == "voordeur" and not report["closed_loop"][key]:
                    profiler = start_profile(args.py_spy, pid, args.seconds, args.out)
                res = measured(pid, closed_loop(url, bot_scripts, args.senders, args.seconds, key))
                if profiler is not None:
                    profiler.wait(timeout=60)
                report["closed_loop"][key].append(res.summary())
                print(line(res.summary()), flush=True)
        best = {
            key: max(r["turns_per_s"] for r in runs) for key, runs in report["closed_loop"].items()
        }
        report["ratio"] = round(best["voordeur"] / best["rasa_init"], 2)
        print(
            f"  => Voordeur {best['voordeur']:.1f} vs rasa init {best['rasa_init']:.1f} "
            f"turns/s: ratio {report['ratio']:.2f} (target >= 1.0)",
            flush=True,
        )
        report["open_load"] = []
        if args.skip_open:
            args.rates = ""
        else:
            print("Open load, 50 conversations:")
        for rate in (float(r) for r in args.rates.split(",") if r):
            res = measured(rasa_pid, open_load(cfg.rasa_url, scripts, rate, args.open_seconds))
            report["open_load"].append(res.summary())
            print(line(res.summary()), flush=True)
        if not args.skip_open:
            print("Twilio webhook:")
            res = measured(
                rasa_pid,
                twilio_load(
                    cfg.rasa_url,
                    DEV_TWILIO_AUTH_TOKEN,
                    scripts,
                    args.twilio_rate,
                    args.open_seconds,
                ),
            )
            report["twilio"] = res.summary()
            print(line(res.summary()), flush=True)
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
