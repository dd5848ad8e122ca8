"""Escalating a handover that nobody claimed in time.

Each handover gets a deadline when it arrives (``Handover.claim_due_at``,
``notifications.claim_deadline``): the team's claim time (``handling:`` in its region file, e.g.
4 working hours, urgent 1) counted in its working hours, skipping Dutch public holidays and its
own closing days; it starts again when a case is released or forwarded to another team
(``notifications.restart_claim``). ``escalate_due`` (run by ``cli worker``) marks every
handover that is new, with nobody assigned, past that moment: ``escalated_at`` (the inbox
shows it), the ``escalated`` event, and the team's escalation announcement (``escalate_to`` /
``escalate_url``). The mark is taken with a conditional ``UPDATE``, so a case claimed at the
same moment, or two workers, never produce a second escalation.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from handover_api.models import Handover, utcnow
from handover_api.services import audit, events, notifications
from handover_api.services.directory import Directory, current

logger = logging.getLogger(__name__)

ACTOR = "system:escalation"


def _overdue(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Handover.status == "new",
        Handover.assigned_username.is_(None),
        Handover.escalated_at.is_(None),
        Handover.claim_due_at.is_not(None),
        Handover.claim_due_at <= now,
    )


def escalate_due(
    session: Session,
    now: datetime | None = None,
    *,
    directory: Directory | None = None,
    limit: int = 200,
) -> int:
    """Escalate the new, unclaimed handovers past their claim deadline; returns how many.
    Commits."""
    now = now or utcnow()
    directory = directory or current()
    ids = session.scalars(
        select(Handover.id).where(*_overdue(now)).order_by(Handover.claim_due_at).limit(limit)
    ).all()
    escalated = 0
    for handover_id in ids:
        taken = session.execute(
            update(Handover)
            .where(Handover.id == handover_id, *_overdue(now))
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:  # claimed or escalated meanwhile: nothing done
            continue
        handover = session.get(Handover, handover_id, populate_existing=True)
        assert handover is not None
        hours = directory.claim_within(
            handover.destination_organisation,
            handover.destination_team,
            urgent=handover.priority == "urgent",
        )
        due = handover.claim_due_at
        events.record(
            session,
            handover,
            "escalated",
            actor=ACTOR,
            detail={
                "claim_within_hours": hours,
                "claim_due_at": due.isoformat() if due else None,
                "team": handover.destination_team,
            },
            at=now,
        )
        notifications.enqueue(session, handover, "escalation", directory=directory)
        audit.record(
            session,
            actor=ACTOR,
            action="handover.escalate",
            resource_type="handover",
            resource_id=str(handover.id),
            detail={"handover_id": str(handover.id), "claim_within_hours": hours},
        )
        escalated += 1
        logger.info(
            "handover %s escalated: not claimed within %s working hours",
            handover.reference,
            hours,
        )
    session.commit()  # one transaction per round: a backlog is escalated in seconds
    return escalated
