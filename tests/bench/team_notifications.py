"""How fast a team hears about a handover, and how the escalation runner copes (a benchmark).

1. Starts the real API (uvicorn, one worker) on a fresh SQLite database (or ``--postgres``: a
   throwaway database on the local server) with a local SMTP server (aiosmtpd, in this
   process) and ``VOORDEUR_NOTIFY_EXAMPLES`` on, so the Helmond wijkteam's example addresses
   are mailed. POSTs N handovers one after another as the action server does and measures,
   per handover, the time from sending the request until the team's e-mail is in the mailbox.
2. Seeds M handovers of which the new ones are past their claim deadline (bulk inserts shaped
   as the services write them, tests/bench/staff_workspace.py) and times the worker's
   rounds (``handover_api.cli.worker_round``: escalate, then send the escalation e-mails)
   until every overdue handover is escalated.

    .venv-api/bin/python tests/bench/team_notifications.py [--handovers 200] [--overdue 2000]
        [--postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from handover_api.core.config import Settings  # noqa: E402
from handover_api.core.db import make_engine  # noqa: E402
from handover_api.models import Handover, TranscriptEvent  # noqa: E402
from handover_api.services import escalation, notifications  # noqa: E402
from handover_api.services.directory import load_directory  # noqa: E402
from tests.bench.api_server import SERVICE_TOKEN, api_env, start_api  # noqa: E402
from tests.bench.staff_workspace import (  # noqa: E402
    HELMOND,
    backend_of,
    bulk,
    create_pg_database,
    drop_pg_database,
    handover_rows,
    pct,
)
from tests.handover_api.conftest import payload  # noqa: E402
from voordeur_cli.stack import free_port  # noqa: E402

WIJKTEAM = {"level": "local", "organisation": HELMOND, "team": "wijkteam", "reason": "WMO."}


@dataclass
class Mailbox:
    """Arrival moment (perf_counter) per reference, and the number of messages."""

    arrived: dict[str, float] = field(default_factory=dict)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        now = time.perf_counter()
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        for line in raw.splitlines():
            if line.lower().startswith(b"x-voordeur-reference:"):
                with self.lock:
                    self.arrived.setdefault(line.split(b":", 1)[1].strip().decode(), now)
        with self.lock:
            self.count += 1
        return "250 OK"


def notify_latency(base: str, mailbox: Mailbox, n: int) -> tuple[list[float], list[float]]:
    """(request ms, request-to-mailbox ms) for n handovers POSTed one after another."""
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    requests_ms: list[float] = []
    mail_ms: list[float] = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for _ in range(n):
            start = time.perf_counter()
            response = client.post("/api/v1/handovers", json=payload(destination=WIJKTEAM))
            requests_ms.append((time.perf_counter() - start) * 1000)
            response.raise_for_status()
            reference = response.json()["reference"]
            deadline = start + 30
            while reference not in mailbox.arrived and time.perf_counter() < deadline:
                time.sleep(0.002)
            if reference in mailbox.arrived:
                mail_ms.append((mailbox.arrived[reference] - start) * 1000)
    return requests_ms, mail_ms


def seed_overdue(url: str, m: int) -> int:
    """M handovers (varied status) of which every new one is past its claim deadline."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    workers = {"peel61": [("cw", "Casus")], HELMOND: [("cw", "Casus")]}
    rows, transcripts, _ = handover_rows(m, rng, now, [], workers)
    for row in rows:  # no case workers: every handover stays new and unassigned
        row.update(status="new", assigned_username=None, assigned_name=None, assigned_at=None)
        row.update(claimed_at=None, first_contact_at=None, closed_at=None)
    with Session(make_engine(url)) as session:
        bulk(session, Handover, rows)
        bulk(session, TranscriptEvent, transcripts)
        session.execute(
            update(Handover)
            .where(Handover.status == "new", Handover.claim_due_at.is_(None))
            .values(claim_due_at=now - timedelta(minutes=1))
        )
        session.commit()
        return int(session.scalar(select(func.count()).where(Handover.claim_due_at <= now)) or 0)


def escalation_rounds(settings: Settings, url: str) -> tuple[int, float, int, float]:
    """Rounds as the worker runs them until nothing is overdue: (escalated, seconds spent
    escalating, e-mails sent, seconds spent sending)."""
    directory = load_directory(settings.VOORDEUR_DATA_DIR)
    notifications.configure(settings)
    escalated = sent = 0
    escalating = sending = 0.0
    with Session(make_engine(url), expire_on_commit=False) as session:
        while True:
            t0 = time.perf_counter()
            n = escalation.escalate_due(session, directory=directory)
            t1 = time.perf_counter()
            report = notifications.deliver_due(session, settings, directory=directory)
            t2 = time.perf_counter()
            escalated, sent = escalated + n, sent + report.done
            escalating, sending = escalating + t1 - t0, sending + t2 - t1
            if n == 0 and report.done == 0:
                return escalated, escalating, sent, sending


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--handovers", type=int, default=200)
    parser.add_argument("--overdue", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="voordeur-notify-bench-"))
    throwaway = create_pg_database() if args.postgres else None
    url = throwaway or f"sqlite:///{tmp / 'bench.sqlite3'}"
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = api_env(
        url,
        VOORDEUR_SMTP_HOST="127.0.0.1",
        VOORDEUR_SMTP_PORT=str(smtp_port),
        VOORDEUR_NOTIFY_EXAMPLES="true",
    )
    try:
        with start_api(env) as api:
            print(
                f"team notification benchmark: {platform.machine()} {os.cpu_count()} cores, "
                f"Python {platform.python_version()}, 1 uvicorn worker, "
                f"database {backend_of(url)}, local SMTP server (aiosmtpd)"
            )
            requests_ms, mail_ms = notify_latency(api.base, mailbox, args.handovers)
            print(f"\n{args.handovers} handovers POSTed one after another (Helmond wijkteam):")
            print(
                f"  POST /api/v1/handovers    p50 {statistics.median(requests_ms):6.1f} ms   "
                f"p95 {pct(requests_ms, 95):6.1f} ms"
            )
            print(
                f"  request -> team mailbox   p50 {statistics.median(mail_ms):6.1f} ms   "
                f"p95 {pct(mail_ms, 95):6.1f} ms   max {max(mail_ms):6.1f} ms   "
                f"({len(mail_ms)}/{args.handovers} arrived, {mailbox.count} e-mails in all)"
            )

        overdue = seed_overdue(url, args.overdue)
        settings = Settings(
            VOORDEUR_ENV="test",
            DATABASE_URL=url,
            VOORDEUR_SMTP_HOST="127.0.0.1",
            VOORDEUR_SMTP_PORT=smtp_port,
            VOORDEUR_NOTIFY_EXAMPLES=True,
        )
        before = mailbox.count
        escalated, escalating, sent, sending = escalation_rounds(settings, url)
        print(f"\n{args.overdue} more handovers seeded, {overdue} overdue (new, unclaimed);")
        print("the worker's rounds (escalate up to 200, then send the escalation e-mails):")
        print(
            f"  escalated {escalated} in {escalating:.1f} s ({escalated / escalating:.0f}/s); "
            f"{sent} escalation e-mails sent in {sending:.1f} s ({sent / sending:.0f}/s, "
            f"one SMTP connection each; {mailbox.count - before} received)"
        )
    finally:
        controller.stop()
        if throwaway:
            drop_pg_database(throwaway)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
