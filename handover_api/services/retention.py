"""Retention: delete what is no longer needed after ``VOORDEUR_RETENTION_DAYS``.

1. Handovers closed or returned more than the retention period ago are deleted with their
   notes (a successor keeps existing; its ``returned_from`` link is cleared).
2. Conversation events older than the retention period are deleted when no handover of their
   conversation remains (so open handovers, and recently finished ones, keep their transcript).
3. Audit rows are kept, but those about deleted handovers or conversations keep only ids:
   the detail is reduced to its ``*_id``/``reference`` entries and a conversation id (which
   may be a phone number for SMS/WhatsApp) is replaced by a pseudonym.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handover_api.models import (
    FINISHED_STATUSES,
    AuditLog,
    ConversationEvent,
    Handover,
    HandoverNote,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    handovers: int
    notes: int
    events: int
    audit_rows: int


def pseudonym(conversation_id: str) -> str:
    return "sha256:" + hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:32]


def _ids_only(detail: dict[str, object] | None) -> dict[str, object]:
    kept = {
        k: v for k, v in (detail or {}).items() if k.endswith("_id") or k in {"reference", "view"}
    }
    kept["purged"] = True
    return kept


def purge(session: Session, *, retention_days: int, now: datetime | None = None) -> PurgeResult:
    """Delete expired data (see module docstring) and commit. Returns the counts."""
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)

    handover_ids = list(
        session.scalars(
            select(Handover.id).where(
                Handover.status.in_(FINISHED_STATUSES),
                Handover.closed_at.is_not(None),
                Handover.closed_at < cutoff,
            )
        )
    )
    notes = 0
    if handover_ids:
        session.execute(
            update(Handover)
            .where(Handover.returned_from_id.in_(handover_ids))
            .values(returned_from_id=None)
        )
        notes = session.execute(  # type: ignore[attr-defined]
            delete(HandoverNote).where(HandoverNote.handover_id.in_(handover_ids))
        ).rowcount
        session.execute(delete(Handover).where(Handover.id.in_(handover_ids)))

    remaining = select(Handover.conversation_id).where(
        Handover.conversation_id == ConversationEvent.conversation_id
    )
    stale = ConversationEvent.at < cutoff
    conversations = set(
        session.scalars(
            select(ConversationEvent.conversation_id).where(stale, ~remaining.exists()).distinct()
        )
    )
    events = 0
    if conversations:
        events = session.execute(  # type: ignore[attr-defined]
            delete(ConversationEvent)
            .where(stale, ConversationEvent.conversation_id.in_(conversations))
            .execution_options(synchronize_session=False)
        ).rowcount

    still_there = (
        set(
            session.scalars(
                select(ConversationEvent.conversation_id)
                .where(ConversationEvent.conversation_id.in_(conversations))
                .distinct()
            )
        )
        if conversations
        else set()
    )
    gone = conversations - still_there

    audit_rows = 0
    ids = [str(i) for i in handover_ids]
    if ids:
        for row in session.scalars(
            select(AuditLog).where(
                AuditLog.resource_type == "handover", AuditLog.resource_id.in_(ids)
            )
        ):
            row.detail = _ids_only(row.detail)
            audit_rows += 1
    if gone:
        for row in session.scalars(
            select(AuditLog).where(
                AuditLog.resource_type == "conversation",
                AuditLog.resource_id.in_(gone),
            )
        ):
            row.resource_id = pseudonym(row.resource_id)
            row.detail = _ids_only(row.detail)
            audit_rows += 1
    session.commit()
    return PurgeResult(
        handovers=len(handover_ids), notes=notes, events=events, audit_rows=audit_rows
    )
