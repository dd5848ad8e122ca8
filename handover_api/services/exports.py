"""The outbox of handover exports: enqueue on creation, deliver with backoff, idempotently.

1. ``enqueue(session, handover)`` (called by ``handovers.create_handover`` before it commits)
   adds a ``pending`` ``HandoverExport`` row when the receiving organisation's region
   configuration has an ``export:`` block with an exporter other than ``none`` that is not
   ``example: true``. One row per handover and exporter (unique); a second call does nothing.
2. ``deliver_due(session, now)`` (``python -m handover_api.cli export-due``, run by a timer
   every minute or so) takes the due rows, claims each one (an ``UPDATE`` that moves
   ``next_attempt_at`` forward by ``LEASE``, so two runners never work on the same row), and
   runs the exporter. Remote ids are committed as soon as each remote resource exists
   (``ExportProgress.remember``), so a retry continues where the failed attempt stopped.
   Failures: ``attempts`` + 1, ``last_error`` (status, path and field names: never personal
   data), next attempt after ``backoff(attempts)`` (1, 2, 4 ... minutes, at most 6 hours);
   ``failed`` after ``MAX_ATTEMPTS`` or at once when retrying cannot help (HTTP 400).
3. ``retry_failed(session, now)`` puts failed rows back to ``pending`` (after fixing the cause).

Each delivered export is audited (``handover.export``: ids, exporter, status; no content).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handover_api.export import Exporter, ExportError, ExportProgress, get_exporter, view_of
from handover_api.models import Handover, HandoverExport, TranscriptEvent, utcnow
from handover_api.services import audit
from handover_api.services.directory import Directory, DirectoryError, ExportConfig, current

logger = logging.getLogger(__name__)

ACTOR = "service:export"
MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: 1, 2, 4 ... min, max 6h."""
    delay: timedelta = BASE_DELAY * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, MAX_DELAY)


def config_for(directory: Directory, organisation: str) -> ExportConfig | None:
    """The organisation's active export configuration: None when absent, ``none`` or example."""
    org = directory.organisation(organisation)
    config = org.export if org else None
    if config is None or config.kind == "none" or config.example:
        return None
    return config


def enqueue(
    session: Session, handover: Handover, *, directory: Directory | None = None
) -> HandoverExport | None:
    """A pending export of ``handover`` when its organisation exports (not committed here)."""
    try:
        directory = directory or current()
    except DirectoryError:  # the app validated requests with it already; never block creation
        logger.exception("export not queued: region configuration unreadable")
        return None
    config = config_for(directory, handover.destination_organisation)
    if config is None:
        return None
    existing = session.scalar(
        select(HandoverExport).where(
            HandoverExport.handover_id == handover.id, HandoverExport.exporter == config.kind
        )
    )
    if existing is not None:
        return existing
    row = HandoverExport(
        handover_id=handover.id,
        exporter=config.kind,
        organisation=handover.destination_organisation,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        remote_ids={},
    )
    session.add(row)
    return row


@dataclass
class DeliveryReport:
    done: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(session: Session, row_id: Any, attempts: int, now: datetime) -> bool:
    """Take the row for this runner: only if nobody else changed or leased it meanwhile."""
    result = session.execute(
        update(HandoverExport)
        .where(
            HandoverExport.id == row_id,
            HandoverExport.status == "pending",
            HandoverExport.attempts == attempts,
            HandoverExport.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return getattr(result, "rowcount", 0) == 1


def _fail(row: HandoverExport, message: str, *, retry: bool, now: datetime) -> str:
    row.attempts += 1
    row.last_error = message[:500]
    if retry and row.attempts < MAX_ATTEMPTS:
        row.next_attempt_at = now + backoff(row.attempts)
        return "retrying"
    row.status = "failed"
    return "failed"


def deliver_one(
    session: Session,
    row: HandoverExport,
    *,
    directory: Directory,
    now: datetime,
    exporters: Mapping[str, Exporter] | None = None,
) -> str:
    """Run one claimed export; returns ``done``, ``retrying`` or ``failed``. Commits."""
    handover = session.get(Handover, row.handover_id)
    config = config_for(directory, row.organisation)
    if handover is None or config is None or config.kind != row.exporter:
        outcome = _fail(
            row, "organisation no longer exports with this exporter", retry=False, now=now
        )
        session.commit()
        return outcome
    exporter = (exporters or {}).get(row.exporter) or get_exporter(row.exporter)
    # Not handovers.load_transcript: services/handovers imports this module (enqueue).
    transcript = session.scalars(
        select(TranscriptEvent)
        .where(TranscriptEvent.handover_id == handover.id)
        .order_by(TranscriptEvent.at, TranscriptEvent.id)
    ).all()
    org = directory.organisation(handover.destination_organisation)
    team = org.teams.get(handover.destination_team) if org else None
    view = view_of(
        handover,
        organisation_name=org.name if org else handover.destination_organisation,
        team_name=team.name if team else handover.destination_team,
        transcript_messages=len(transcript),
        conversation_started_at=transcript[0].at if transcript else None,
    )

    def save(ids: dict[str, Any]) -> None:
        row.remote_ids = ids
        session.commit()

    progress = ExportProgress(remote_ids=dict(row.remote_ids or {}), save=save)
    try:
        result = exporter.export(view, config=config, progress=progress)
    except ExportError as exc:
        outcome = _fail(row, str(exc), retry=exc.retry, now=now)
    except Exception as exc:  # a bug must not stop the other exports
        logger.exception("export %s of handover %s crashed", row.exporter, row.handover_id)
        outcome = _fail(row, f"unexpected {type(exc).__name__}", retry=True, now=now)
    else:
        row.attempts += 1
        row.status = "done"
        row.done_at = now
        row.last_error = None
        row.remote_ids = dict(result.remote_ids)
        outcome = "done"
    audit.record(
        session,
        actor=ACTOR,
        action="handover.export",
        resource_type="handover",
        resource_id=str(row.handover_id),
        detail={
            "handover_id": str(row.handover_id),
            "exporter": row.exporter,
            "outcome": outcome,
            "attempt": row.attempts,
        },
    )
    session.commit()
    logger.info(
        "export %s of handover %s: %s (attempt %d)",
        row.exporter,
        row.handover_id,
        outcome,
        row.attempts,
    )
    return outcome


def deliver_due(
    session: Session,
    now: datetime | None = None,
    *,
    directory: Directory | None = None,
    limit: int = 50,
    exporters: Mapping[str, Exporter] | None = None,
) -> DeliveryReport:
    """Deliver the pending exports whose next attempt is due (oldest first). Commits."""
    now = now or utcnow()
    directory = directory or current()
    due = session.execute(
        select(HandoverExport.id, HandoverExport.attempts)
        .where(HandoverExport.status == "pending", HandoverExport.next_attempt_at <= now)
        .order_by(HandoverExport.next_attempt_at)
        .limit(limit)
    ).all()
    report = DeliveryReport()
    for row_id, attempts in due:
        if not _claim(session, row_id, attempts, now):
            continue
        row = session.get(HandoverExport, row_id, populate_existing=True)
        if row is None:  # pragma: no cover - deleted with its handover meanwhile
            continue
        outcome = deliver_one(session, row, directory=directory, now=now, exporters=exporters)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def retry_failed(session: Session, now: datetime | None = None) -> int:
    """Put every failed export back to pending, due now, with a fresh attempt count."""
    result = session.execute(
        update(HandoverExport)
        .where(HandoverExport.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0))
