"""Turns per second of the production profile with 1 and with 2 Rasa instances (a benchmark).

Starts the production profile (PostgreSQL tracker store, Redis lock store, RabbitMQ event
broker: the machine's services, a throwaway database per run) with one Rasa instance, then
with two behind nginx (voordeur_cli/balancer.py), each time with 2 action servers and 2
handover API workers, and runs the closed loop of tests/bench/rasa_turns.py against the
front URL: `--senders` residents typing the conversation suite's user turns.

    .venv-api/bin/python tests/bench/scale_out.py [--seconds 30] [--senders 20]
        [--out var/bench/scale.json]

Loopback only, bounded load; a benchmark that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.bench.rasa_turns import (  # noqa: E402
    closed_loop,
    group_cpu_seconds,
    line,
    voordeur_scripts,
    write_report,
)
from voordeur_cli import system  # noqa: E402
from voordeur_cli.main import latest_model  # noqa: E402
from voordeur_cli.paths import VAR  # noqa: E402
from voordeur_cli.stack import StackConfig, free_port, running_stack  # noqa: E402

SERVICE_TOKEN = "bench-service-token-0123456789abcdef"
TWILIO_SID = "AC" + "b3" * 16
TWILIO_TOKEN = "bench-twilio-auth-token-0123456789"


def measure(instances: int, model: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One production stack with `instances` Rasa instances, warmed up, then the closed loop."""
    database = f"voordeur_bench_{uuid.uuid4().hex[:8]}"
    system.ensure_database(database)
    system.ensure_database(f"{database}_tracker")
    work = Path(tempfile.mkdtemp(prefix=f"voordeur-scale{instances}-"))
    cfg = StackConfig.production_profile(
        model,
        database,
        api_port=free_port(),
        actions_port=free_port(),
        rasa_port=free_port(),
        var_dir=work,
        service_token=SERVICE_TOKEN,
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token=TWILIO_TOKEN,
        env="test",
        rasa_instances=instances,
        action_servers=2,
        api_workers=2,
    )
    scripts = voordeur_scripts()
    print(f"{instances} Rasa instance(s); logs in {work}", flush=True)
    with running_stack(cfg, work / "logs"):
        rasa = [pid for name, pid in cfg.pids.items() if name.startswith("rasa")]
        asyncio.run(closed_loop(cfg.rasa_url, scripts, 4, 8, "warm-up"))
        before = sum(group_cpu_seconds(pid) for pid in rasa)
        result = asyncio.run(
            closed_loop(cfg.rasa_url, scripts, args.senders, args.seconds, f"{instances} x rasa")
        )
        result.cpu_seconds = sum(group_cpu_seconds(pid) for pid in rasa) - before
    summary = result.summary()
    print(line(summary), flush=True)
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--out", type=Path, default=VAR / "bench" / "scale.json")
    args = parser.parse_args()
    model = latest_model()
    if model is None:
        print("no trained model: run ./voordeur train first", file=sys.stderr)
        return 1
    if not system.ensure_production_services():
        print("PostgreSQL, Redis and RabbitMQ are needed", file=sys.stderr)
        return 1
    runs = [{"instances": n, **measure(n, model, args)} for n in (1, 2)]
    one, two = (run["turns_per_s"] for run in runs)
    speedup = two / one if one else 0.0
    report = {"runs": runs, "ratio": round(speedup, 2), "senders": args.senders}
    print(f"  => 2 instances serve {speedup:.2f}x one instance's turns/s (target >= 1.7)")
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
