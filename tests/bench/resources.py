"""Training time and peak memory per service (a benchmark, not a test).

- ``memory``: starts the whole local system (tests' StackConfig, a fresh var directory), puts
  a closed-loop load on the Rasa server (`--senders` residents sending the conversation
  suite's turns, tests/bench/rasa_turns.closed_loop), then reads the peak resident set
  (``VmHWM`` in /proc/<pid>/status) of every process of each service's process group: the Rasa
  server, the action server, the handover API, the worker. Writes var/bench/memory.json.
- ``train``: times ``rasa train --force`` of bot/config.yml (the command `./voordeur train`
  runs) into a temporary directory, so models/ is not touched, and records the peak resident
  set of the training process. Takes minutes (DIET and TED on 2 cores); only when asked.
  Writes var/bench/training.json.

    .venv-api/bin/python tests/bench/resources.py memory [--seconds 30] [--senders 10]
    .venv-api/bin/python tests/bench/resources.py train

The /proc helpers here (group_pids, group_peak_rss_mb) are stdlib only; the other benches
import them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH = REPO / "var" / "bench"


# --- /proc -----------------------------------------------------------------------------------


def group_pids(pgid: int) -> list[int]:
    """Every process whose process group is `pgid`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def status_kb(pid: int, key: str) -> int | None:
    """A `kB` field of /proc/<pid>/status (VmHWM: peak resident set; VmRSS: now)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return None


def group_peak_rss_mb(pgid: int) -> float | None:
    """The sum of the peak resident sets (VmHWM) of the processes of group `pgid`, in MB
    (an upper bound of the group's peak: the processes need not peak at the same moment)."""
    peaks = [status_kb(pid, "VmHWM") for pid in group_pids(pgid)]
    known = [p for p in peaks if p is not None]
    return round(sum(known) / 1024, 1) if known else None


def group_memory(pgid: int) -> dict[str, Any]:
    pids = group_pids(pgid)
    peaks = {pid: status_kb(pid, "VmHWM") or 0 for pid in pids}
    now = {pid: status_kb(pid, "VmRSS") or 0 for pid in pids}
    return {
        "processes": len(pids),
        "peak_rss_mb": round(sum(peaks.values()) / 1024, 1),
        "largest_process_peak_mb": round(max(peaks.values(), default=0) / 1024, 1),
        "rss_mb_at_end": round(sum(now.values()) / 1024, 1),
    }


# --- memory under load -------------------------------------------------------------------------


def measure_memory(seconds: float, senders: int) -> dict[str, Any]:
    import asyncio

    from tests.bench.rasa_turns import closed_loop, local_stack, voordeur_scripts
    from voordeur_cli.main import latest_model
    from voordeur_cli.stack import running_stack

    model = latest_model()
    if model is None:
        raise SystemExit("no trained model: run ./voordeur train first")
    cfg = local_stack(model, "voordeur-memory-")
    work = cfg.var_dir
    print(f"model {model.name}; logs in {work}", flush=True)
    with running_stack(cfg, work / "logs"):
        idle = {name: group_memory(pgid) for name, pgid in cfg.pids.items()}
        print(f"closed loop: {senders} senders for {seconds:g} s ...", flush=True)
        load = asyncio.run(
            closed_loop(cfg.rasa_url, voordeur_scripts(), senders, seconds, "memory")
        )
        services = {name: group_memory(pgid) for name, pgid in cfg.pids.items()}
    for name, mem in services.items():
        mem["rss_mb_after_start"] = idle[name]["rss_mb_at_end"]
    return {
        "model": model.name,
        "load": {**load.summary(), "senders": senders},
        "services": services,
    }


# --- training ----------------------------------------------------------------------------------


def measure_training() -> dict[str, Any]:
    from voordeur_cli.main import _rasa_env, train_command
    from voordeur_cli.paths import MODELS

    out = Path(tempfile.mkdtemp(prefix="voordeur-train-bench-"))
    command = [str(out) if part == str(MODELS) else part for part in train_command(force=True)]
    env = {**_rasa_env(), "RASA_TELEMETRY_ENABLED": "false"}
    log = BENCH / "training.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"$ {' '.join(command)}  (log: {log})", flush=True)
    started = time.monotonic()
    with log.open("wb") as out_file:
        proc = subprocess.run(command, cwd=REPO, env=env, stdout=out_file, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    models = sorted(out.glob("*.tar.gz"))
    return {
        "command": "rasa train --force (bot/config.yml, the data of ./voordeur train)",
        "returncode": proc.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "model_mb": round(models[-1].stat().st_size / 2**20, 1) if models else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("memory", help="peak memory per service under a closed-loop load")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--senders", type=int, default=10)
    p.add_argument("--out", type=Path, default=BENCH / "memory.json")
    p = sub.add_parser("train", help="time rasa train --force (minutes)")
    p.add_argument("--out", type=Path, default=BENCH / "training.json")
    args = parser.parse_args(argv)
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if args.what == "memory":
        report = {"machine": machine, **measure_memory(args.seconds, args.senders)}
        print(f"{'service':<16} {'processes':>9} {'peak RSS MB':>12} {'largest MB':>11}")
        for name, mem in report["services"].items():
            print(
                f"{name:<16} {mem['processes']:>9} {mem['peak_rss_mb']:>12.1f} "
                f"{mem['largest_process_peak_mb']:>11.1f}"
            )
        load = report["load"]
        print(
            f"load: {load['turns']} turns, {load['turns_per_s']} turns/s, errors {load['errors']}"
        )
    else:
        report = {"machine": machine, **measure_training()}
        print(
            f"rasa train --force: {report['seconds']:.0f} s, peak RSS "
            f"{report['peak_rss_mb']:.0f} MB (exit {report['returncode']})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"Written: {args.out}")
    return 0 if report.get("returncode", 0) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
