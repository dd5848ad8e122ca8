"""Call attempts: a case worker tries to reach the resident and records how it went.

Outcomes: ``bereikt`` (reached), ``niet_bereikt`` (no answer) and ``terugbellen`` (call back at
an agreed moment, ``callback_at``). The first ``bereikt`` sets ``Handover.first_contact_at``:
the moment the service level (working days until contact) is met. Attempts are signed with the
case worker's username and display name and audited (``call_attempt.create``, ids and the
outcome only, never the note). A returned or closed case takes no attempts.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from handover_api.models import CALL_OUTCOMES, FINISHED_STATUSES, CallAttempt, Handover, utcnow
from handover_api.schemas import CallAttemptOut
from handover_api.services import audit, events
from handover_api.services.errors import ConflictError, InvalidRequestError
from handover_api.services.principals import Principal

logger = logging.getLogger(__name__)

# The timeline's event of each outcome (``services/events.py``).
OUTCOME_EVENTS = {
    "bereikt": "contact_made",
    "niet_bereikt": "contact_failed",
    "terugbellen": "contact_attempted",
}

OUTCOME_LABELS = {
    "bereikt": "Bereikt",
    "niet_bereikt": "Niet bereikt",
    "terugbellen": "Terugbellen",
}


def record_attempt(
    session: Session,
    *,
    handover: Handover,
    outcome: str,
    principal: Principal,
    callback_at: datetime | None = None,
    note: str | None = None,
) -> CallAttempt:
    """Add a call attempt to ``handover`` (loaded for update). Commits.

    InvalidRequestError (422): unknown outcome, ``terugbellen`` without ``callback_at`` or a
    ``callback_at`` with another outcome. ConflictError (409): the case is returned or closed.
    """
    if outcome not in CALL_OUTCOMES:
        raise InvalidRequestError(f"outcome must be one of {', '.join(CALL_OUTCOMES)}")
    if outcome == "terugbellen" and callback_at is None:
        raise InvalidRequestError("callback_at is required when the outcome is terugbellen")
    if outcome != "terugbellen" and callback_at is not None:
        raise InvalidRequestError("callback_at is only given when the outcome is terugbellen")
    if handover.status in FINISHED_STATUSES:
        raise ConflictError(f"a {handover.status} handover takes no call attempts")
    now = utcnow()
    attempt = CallAttempt(
        id=uuid.uuid4(),
        at=now,
        author_username=principal.username,
        author_display_name=principal.display_name,
        outcome=outcome,
        callback_at=callback_at,
        note=(note or "").strip() or None,
    )
    handover.call_attempts.append(attempt)
    first_contact = outcome == "bereikt" and handover.first_contact_at is None
    if first_contact:
        handover.first_contact_at = now
    handover.updated_at = now
    event_detail: dict[str, Any] = {"outcome": outcome}
    if callback_at is not None:
        event_detail["callback_at"] = callback_at.isoformat()
    if first_contact:
        event_detail["first_contact"] = True
    events.record(
        session,
        handover,
        OUTCOME_EVENTS[outcome],
        actor=principal.actor,
        actor_name=principal.display_name,
        detail=event_detail,
        at=now,
    )
    audit.record(
        session,
        actor=principal.actor,
        action="call_attempt.create",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={
            "handover_id": str(handover.id),
            "call_attempt_id": str(attempt.id),
            "outcome": outcome,
            "first_contact": first_contact,
        },
    )
    session.commit()
    logger.info("handover %s call attempt %s by %s", handover.reference, outcome, principal.actor)
    return attempt


def to_out(attempt: CallAttempt) -> CallAttemptOut:
    return CallAttemptOut(
        id=attempt.id,
        at=attempt.at,
        outcome=attempt.outcome,  # type: ignore[arg-type]
        callback_at=attempt.callback_at,
        note=attempt.note,
        author=attempt.author_display_name,
        author_username=attempt.author_username,
    )


def attempts_out(handover: Handover) -> list[CallAttemptOut]:
    """The case's call attempts, oldest first."""
    return [to_out(a) for a in sorted(handover.call_attempts, key=lambda a: a.at)]
