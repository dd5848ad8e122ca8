"""The outbox of handover exports: enqueue on creation, deliver with backoff, idempotently.

1. ``enqueue(session, handover)`` (called by ``handovers.create_handover`` before it commits)
   adds a ``pending`` ``HandoverExport`` row when the receiving organisation's region
   configuration has an ``export:`` block with an exporter other than ``none`` that is not
   ``example: true``. One row per handover and exporter (unique); a second call does nothing.
2. ``deliver_due(session, now)`` (``python -m handover_api.cli worker``, or ``export-due`` from
   a timer) takes the due rows, claims each one (``services/outbox.py``: two runners never
   work on the same row), and runs the exporter. Remote ids are committed as soon as each
   remote resource exists (``ExportProgress.remember``), so a retry continues where the
   failed attempt stopped.
   Failures: ``last_error`` (status, path and field names: never personal data), retried with
   the outbox's backoff; ``failed`` at once when retrying cannot help (HTTP 400).
3. ``retry_failed(session, now)`` puts failed rows back to ``pending`` (after fixing the cause).

Each delivered export is audited (``handover.export``: ids, exporter, status; no content).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.export import Exporter, ExportError, ExportProgress, get_exporter, view_of
from handover_api.models import Handover, HandoverExport, TranscriptEvent, utcnow
from handover_api.services import audit, outbox
from handover_api.services.directory import Directory, DirectoryError, ExportConfig, current
from handover_api.services.outbox import DeliveryReport, Outcome

logger = logging.getLogger(__name__)

ACTOR = "service:export"


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


def deliver_one(
    session: Session,
    row: HandoverExport,
    *,
    directory: Directory,
    now: datetime,
    exporters: Mapping[str, Exporter] | None = None,
) -> Outcome:
    """Run one claimed export; returns ``done``, ``retrying`` or ``failed``. Commits."""
    handover = session.get(Handover, row.handover_id)
    config = config_for(directory, row.organisation)
    if handover is None or config is None or config.kind != row.exporter:
        outcome = outbox.fail(
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
        outcome = outbox.fail(row, str(exc), retry=exc.retry, now=now)
    except Exception as exc:  # a bug must not stop the other exports
        logger.exception("export %s of handover %s crashed", row.exporter, row.handover_id)
        outcome = outbox.fail(row, f"unexpected {type(exc).__name__}", retry=True, now=now)
    else:
        row.remote_ids = dict(result.remote_ids)
        outcome = outbox.succeed(row, now)
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
    report = DeliveryReport()
    for row_id, attempts in outbox.due(session, HandoverExport, now, limit):
        if not outbox.claim(session, HandoverExport, row_id, attempts, now):
            continue
        row = session.get(HandoverExport, row_id, populate_existing=True)
        if row is None:  # pragma: no cover - deleted with its handover meanwhile
            continue
        report.add(deliver_one(session, row, directory=directory, now=now, exporters=exporters))
    return report


def retry_failed(session: Session, now: datetime | None = None) -> int:
    """Put every failed export back to pending, due now, with a fresh attempt count."""
    return outbox.retry_failed(session, HandoverExport, now)
