"""Handover API latency and throughput on this machine (a benchmark, not a test).

Starts the real API (uvicorn, one worker) on a free loopback port with a fresh SQLite database
(or DATABASE_URL), then: creates N handovers from C concurrent clients, replays them with the
same Idempotency-Key, lists as staff, and prints p50/p95/max and requests per second.

    .venv-api/bin/python tests/bench/api_latency.py [--n 300] [--concurrency 8]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from voordeur_cli.stack import free_port  # noqa: E402

SERVICE_TOKEN = "bench-service-token"


def payload(i: int) -> dict:
    now = "2026-11-26T21:00:00+00:00"
    return {
        "conversation_id": f"bench-{i}",
        "channel": "web",
        "priority": "urgent" if i % 10 == 0 else "normal",
        "municipality": {"code": "GM0794", "name": "Helmond"},
        "destination": {
            "level": "regional",
            "organisation": "peel61",
            "team": "werk-inkomen",
            "reason": "Vraag over een bijstandsuitkering.",
        },
        "life_domains": [{"code": "inkomen", "evidence": ["geen inkomen meer"]}],
        "multi_problem": False,
        "crisis": None,
        "summary": "Vraag: een bijstandsuitkering. Gemeente: Helmond.",
        "application": None,
        "contact": {
            "name": None,
            "phone": "0612345678",
            "email": None,
            "preferred": "phone",
            "best_time": None,
        },
        "consent": {"given": True, "at": now, "text_version": "toestemming-2026-11-v1"},
        "transcript": [
            {
                "event_id": f"e{i}-{j}",
                "sender": "user" if j % 2 else "bot",
                "text": f"bericht {j}",
                "at": now,
            }
            for j in range(10)
        ],
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def timed(client: httpx.AsyncClient, method: str, url: str, **kw) -> tuple[float, int]:
    start = time.perf_counter()
    resp = await client.request(method, url, **kw)
    return (time.perf_counter() - start) * 1000, resp.status_code


async def run(base: str, n: int, concurrency: int, staff_token: str) -> None:
    sem = asyncio.Semaphore(concurrency)
    keys = [str(uuid.uuid4()) for _ in range(n)]
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def create(i: int) -> tuple[float, int]:
            async with sem:
                return await timed(
                    client,
                    "POST",
                    "/api/v1/handovers",
                    json=payload(i),
                    headers={**service, "Idempotency-Key": keys[i]},
                )

        for label, make in (("create", create), ("replay (same key)", create)):
            start = time.perf_counter()
            results = await asyncio.gather(*(make(i) for i in range(n)))
            report(label, results, time.perf_counter() - start)

        staff = {"Authorization": f"Bearer {staff_token}"}

        async def listing(_: int) -> tuple[float, int]:
            async with sem:
                return await timed(client, "GET", "/api/v1/handovers?page_size=50", headers=staff)

        start = time.perf_counter()
        results = await asyncio.gather(*(listing(i) for i in range(n)))
        report("list (staff)", results, time.perf_counter() - start)


def report(label: str, results: list[tuple[float, int]], seconds: float) -> None:
    ms = [r[0] for r in results]
    codes: dict[int, int] = {}
    for _, code in results:
        codes[code] = codes.get(code, 0) + 1
    print(
        f"{label:<20} n={len(ms):<5} p50={statistics.median(ms):7.1f} ms  "
        f"p95={pct(ms, 95):7.1f} ms  max={max(ms):7.1f} ms  {len(ms) / seconds:7.1f} req/s  "
        f"status={codes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="voordeur-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VOORDEUR_ENV": "test",
        "VOORDEUR_SERVICE_TOKEN": SERVICE_TOKEN,
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}"),
    }
    py = sys.executable
    subprocess.run(
        [py, "-m", "handover_api.cli", "migrate"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            py,
            "-m",
            "handover_api.cli",
            "create-user",
            "--username",
            "bench",
            "--organisation",
            "peel61",
            "--display-name",
            "bench",
        ],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    token = [w for w in out.split() if len(w) >= 32][-1]
    server = subprocess.Popen(
        [
            py,
            "-m",
            "uvicorn",
            "handover_api.main:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        db = env["DATABASE_URL"].split(":")[0]
        print(
            f"handover API benchmark: {args.n} requests per phase, concurrency "
            f"{args.concurrency}, database {db}, 1 uvicorn worker, {os.cpu_count()} cores"
        )
        asyncio.run(run(base, args.n, args.concurrency, token))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
