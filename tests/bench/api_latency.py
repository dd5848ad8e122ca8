"""Handover API throughput and latency on this machine (a benchmark, not a test).

Per database (a fresh SQLite file, and/or a throwaway PostgreSQL database on the local server
that is dropped afterwards): migrates, seeds `--seed` handovers in bulk (shaped as
services/handovers.create_handover writes them, with 8 transcript messages each; see
tests/bench/staff_workspace.handover_rows), starts the real API (uvicorn, `--workers`) and
measures through HTTP on loopback:

- create: N handovers from C concurrent clients (10 transcript messages each, as the action
  server sends them): creates per second, p50/p95/p99;
- replay: the same N requests again with the same Idempotency-Key (200, no new handover);
- list under load: N staff lists (`GET /api/v1/handovers?page_size=50`) from C clients;
- list and inbox, one client: `--reps` requests each of the API list and of the staff inbox
  page (`GET /staff/inbox`, logged in through the form): p50/p95 as a case worker sees it.

PostgreSQL is seeded with COPY and then VACUUM ANALYZE (what autovacuum does after a load).
A run for one database keeps the other database's figures in `--out`.

Targets (issue 14): > 300 creates/s on SQLite, > 500 on PostgreSQL, list p95 < 50 ms (one
client) with 100,000 handovers in the database. Writes the figures to `--out` as JSON.

    .venv-api/bin/python tests/bench/api_latency.py [--n 300] [--concurrency 8]
        [--seed 0] [--database sqlite|postgres|both] [--workers 1] [--reps 30]
        [--out var/bench/api.json]

`./voordeur bench api` runs it with --seed 100000 --database both --workers 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy.orm import Session  # noqa: E402

from handover_api.core.db import make_engine  # noqa: E402
from handover_api.models import CallAttempt, Handover, TranscriptEvent  # noqa: E402
from handover_api.services import users  # noqa: E402
from tests.bench.api_server import SERVICE_TOKEN, api_env, migrate, start_api  # noqa: E402
from tests.bench.resources import group_peak_rss_mb  # noqa: E402
from tests.bench.staff_workspace import (  # noqa: E402
    HELMOND,
    PEEL,
    backend_of,
    bulk,
    create_pg_database,
    drop_pg_database,
    handover_rows,
    login,
)

DEFAULT_OUT = REPO / "var" / "bench" / "api.json"
TARGETS = {"creates_per_s": {"sqlite": 300, "postgresql": 500}, "list_p95_ms": 50}
SEED_CHUNK = 10_000


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


@dataclass
class Phase:
    label: str
    ms: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        ms = self.ms
        return {
            "n": len(ms),
            "seconds": round(self.seconds, 2),
            "per_s": round(len(ms) / self.seconds, 1) if self.seconds else None,
            "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(pct(ms, 95), 1),
            "p99_ms": round(pct(ms, 99), 1),
            "max_ms": round(max(ms), 1),
            "status": {str(k): v for k, v in sorted(self.codes.items())},
            "errors": sum(v for k, v in self.codes.items() if not 200 <= k < 400),
        }

    def line(self) -> str:
        s = self.summary()
        return (
            f"  {self.label:<28} n={s['n']:<5} p50={s['p50_ms']:7.1f} ms  "
            f"p95={s['p95_ms']:7.1f} ms  p99={s['p99_ms']:7.1f} ms  max={s['max_ms']:7.1f} ms  "
            f"{s['per_s']:7.1f} req/s  status={s['status']}"
        )


# --- seeding -----------------------------------------------------------------------------------


def copy_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY for `rows` of `model` (~10x faster than INSERTs for a million rows):
    the columns the rows name, plus the Python-side defaults of the other columns, bound as
    SQLAlchemy would (JSON columns as JSON, the types' own bind processing)."""
    from psycopg.types.json import Json
    from sqlalchemy import JSON, TypeDecorator

    if not rows:
        return
    table = model.__table__
    dialect = session.get_bind().dialect
    given = [c for c in table.columns if c.key in rows[0]]
    defaults = [
        c
        for c in table.columns
        if c.key not in rows[0] and c.default is not None and not c.default.is_sequence
    ]
    columns = given + defaults

    def bind(column: Any, value: Any) -> Any:
        kind = column.type
        if isinstance(kind, TypeDecorator):
            value = kind.process_bind_param(value, dialect)
            kind = kind.impl
        if isinstance(kind, JSON) and value is not None:
            return Json(value)
        return value

    def default(column: Any) -> Any:
        arg = column.default.arg
        return arg(None) if column.default.is_callable else arg

    names = ", ".join(f'"{c.name}"' for c in columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [bind(c, row[c.key]) for c in given] + [bind(c, default(c)) for c in defaults]
            )


def seed(url: str, n: int, rng: random.Random) -> tuple[str, int]:
    """A case worker of peel61 (returns the token) and `n` handovers in bulk, with their
    transcripts and call attempts; references stay unique across the chunks."""
    engine = make_engine(url)
    workers = {PEEL: [("cw-peel", "Casus Peel")], HELMOND: [("cw-helmond", "Casus Helmond")]}
    now = datetime.now(UTC)
    seen: set[str] = set()
    rows_written = 0
    with Session(engine) as session:
        user = users.create_user(
            session, username="bench", organisation=PEEL, display_name="Bench Peel"
        )
        token = users.issue_token(session, user=user)
        session.commit()
        for start in range(0, n, SEED_CHUNK):
            handovers, transcripts, calls = handover_rows(
                min(SEED_CHUNK, n - start), rng, now, [], workers
            )
            for row in handovers:
                while row["reference"] in seen:
                    letters = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=4))
                    row["reference"] = f"VD-{letters}-{rng.randrange(100):02d}"
                seen.add(row["reference"])
            write = copy_rows if engine.dialect.name == "postgresql" else bulk
            write(session, Handover, handovers)
            write(session, TranscriptEvent, transcripts)
            write(session, CallAttempt, calls)
            session.commit()
            rows_written += len(handovers) + len(transcripts) + len(calls)
    if engine.dialect.name == "postgresql":
        # As autovacuum does after a load like this: planner statistics and the visibility
        # map (without it an index-only scan still reads every row: 95 ms instead of 35 ms).
        from sqlalchemy import text

        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return token, rows_written


# --- measuring ---------------------------------------------------------------------------------


async def concurrent(
    client: httpx.AsyncClient, label: str, n: int, concurrency: int, request: Any
) -> Phase:
    sem = asyncio.Semaphore(concurrency)
    phase = Phase(label)

    async def one(i: int) -> None:
        async with sem:
            start = time.perf_counter()
            try:
                code = (await request(client, i)).status_code
            except httpx.HTTPError:
                code = 0  # no answer (connection closed, timeout)
            phase.ms.append((time.perf_counter() - start) * 1000)
            phase.codes[code] = phase.codes.get(code, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    phase.seconds = time.perf_counter() - start
    return phase


async def load_phases(base: str, n: int, concurrency: int, staff_token: str) -> list[Phase]:
    keys = [str(uuid.uuid4()) for _ in range(n)]
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    staff = {"Authorization": f"Bearer {staff_token}"}
    limits = httpx.Limits(max_connections=concurrency + 2)

    async def create(client: httpx.AsyncClient, i: int) -> httpx.Response:
        return await client.post(
            "/api/v1/handovers", json=payload(i), headers={**service, "Idempotency-Key": keys[i]}
        )

    async def listing(client: httpx.AsyncClient, _i: int) -> httpx.Response:
        return await client.get("/api/v1/handovers?page_size=50", headers=staff)

    phases = []
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        # Warm-up: connections, the first request's imports and caches.
        await concurrent(client, "warm-up", concurrency, concurrency, listing)
        for label, request in (
            ("create", create),
            ("replay (same key)", create),
            ("list, concurrent", listing),
        ):
            phases.append(await concurrent(client, label, n, concurrency, request))
            print(phases[-1].line(), flush=True)
    return phases


def sequential(label: str, reps: int, get: Any) -> Phase:
    for _ in range(2):
        get()
    phase = Phase(label)
    start = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        resp = get()
        phase.ms.append((time.perf_counter() - t0) * 1000)
        phase.codes[resp.status_code] = phase.codes.get(resp.status_code, 0) + 1
    phase.seconds = time.perf_counter() - start
    print(phase.line(), flush=True)
    return phase


def bench_database(kind: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    load_average = os.getloadavg()
    env = api_env(url)
    migrate(env)
    started = time.perf_counter()
    token, rows = seed(url, args.seed, random.Random(42))
    seed_seconds = time.perf_counter() - started
    backend = backend_of(url)
    print(
        f"\n{backend}: {args.seed} handovers seeded ({rows} rows) in {seed_seconds:.0f} s; "
        f"{args.workers} uvicorn worker(s), {args.n} requests per phase, "
        f"concurrency {args.concurrency}",
        flush=True,
    )
    with start_api(env, workers=args.workers, run_migrations=False) as api:
        phases = asyncio.run(load_phases(api.base, args.n, args.concurrency, token))
        with httpx.Client(
            base_url=api.base, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            api_list = sequential(
                "list, one client",
                args.reps,
                lambda: client.get("/api/v1/handovers?page_size=50"),
            )
        browser, _csrf = login(api.base, token)
        try:
            inbox = sequential(
                "staff inbox, one client", args.reps, lambda: browser.get("/staff/inbox")
            )
        finally:
            browser.close()
        peak = group_peak_rss_mb(api.pid)
    create, replay, listing = phases
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": [round(x, 2) for x in load_average],
        "backend": backend,
        "seeded_handovers": args.seed,
        "seed_seconds": round(seed_seconds, 1),
        "workers": args.workers,
        "concurrency": args.concurrency,
        "create": create.summary(),
        "replay": replay.summary(),
        "list_concurrent": listing.summary(),
        "list": api_list.summary(),
        "inbox": inbox.summary(),
        "api_peak_rss_mb": peak,
    }
    target = TARGETS["creates_per_s"][kind]
    print(
        f"  => creates/s {result['create']['per_s']} (target > {target}); list p95 "
        f"{result['list']['p95_ms']} ms, inbox p95 {result['inbox']['p95_ms']} ms "
        f"(target < {TARGETS['list_p95_ms']}); API peak RSS {peak} MB",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="requests per load phase")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0, help="handovers in the database first")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--reps", type=int, default=30, help="one-client list/inbox requests")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    print(
        f"handover API benchmark: {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": TARGETS,
        "databases": {},
    }
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        if kind == "postgres":
            url = create_pg_database()
            try:
                report["databases"]["postgresql"] = bench_database("postgresql", url, args)
            finally:
                drop_pg_database(url)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="voordeur-bench-"))
            try:
                url = f"sqlite:///{tmp / 'bench.sqlite3'}"
                report["databases"]["sqlite"] = bench_database("sqlite", url, args)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    # A run for one database keeps the other one's figures (each has its measured_at).
    try:
        earlier = json.loads(args.out.read_text(encoding="utf-8")).get("databases") or {}
    except (OSError, ValueError, AttributeError):
        earlier = {}
    report["databases"] = {**earlier, **report["databases"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"Written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
