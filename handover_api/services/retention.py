"""Retention: delete what is no longer needed. All ages count in server time.

1. Handovers closed or returned more than ``VOORDEUR_RETENTION_DAYS`` ago are deleted with
   their notes and transcript (a successor keeps existing; its ``returned_from`` link is
   cleared). Handovers never closed are deleted ``VOORDEUR_MAX_OPEN_DAYS`` after they were
   made: a case nobody finished must not stay forever.
2. Conversations kept for review (``conversations``, filled from Rasa's events) are deleted
   with their messages (and reviewers' marks on them, by cascade)
   ``VOORDEUR_CONVERSATION_RETENTION_DAYS`` after their last message (``last_at``), unless a
   handover still names the conversation (``Handover.conversation_id``): such a conversation
   is kept as long as the handover (rule 1 deletes it, the next purge the conversation).
   Conversation events (the log, with or without a ``conversations`` row) are deleted that
   many days after they ARRIVED (``received_at``), whatever time the client claimed in
   ``at``, again unless a handover holds their conversation. A handover's transcript is its
   own copy and follows the handover (rule 1). The tombstone of an erased conversation
   (``erased_at``; its messages went at the erasure) is deleted that many days after the
   erasure, whether or not a handover names the conversation: it only served to drop events
   that arrived after the erasure.
3. ``conversation_senders`` rows (which conversation a sender key is in, and events waiting
   for a conversation reference) not touched for ``VOORDEUR_CONVERSATION_RETENTION_DAYS``.
4. Audit rows are kept, but those about deleted handovers keep only ids, and those naming a
   conversation that no longer exists get a pseudonym instead of its id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from handover_api.models import (
    FINISHED_STATUSES,
    AuditLog,
    Conversation,
    ConversationEvent,
    ConversationSender,
    Handover,
    HandoverNote,
    TranscriptEvent,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    handovers: int
    notes: int
    transcript_events: int
    events: int
    audit_rows: int
    conversations: int = 0
    senders: int = 0


def pseudonym(conversation_id: str) -> str:
    return "sha256:" + hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:32]


def _ids_only(detail: dict[str, object] | None) -> dict[str, object]:
    kept = {
        k: v for k, v in (detail or {}).items() if k.endswith("_id") or k in {"reference", "view"}
    }
    kept["purged"] = True
    return kept


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    """IN lists of bounded length (SQLite allows at most 32,766 bound parameters)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def purge(
    session: Session,
    *,
    retention_days: int,
    conversation_retention_days: int = 14,
    max_open_days: int = 365,
    now: datetime | None = None,
) -> PurgeResult:
    """Delete expired data (see module docstring) and commit. Returns the counts."""
    now = now or utcnow()
    finished_cutoff = now - timedelta(days=retention_days)
    open_cutoff = now - timedelta(days=max_open_days)
    events_cutoff = now - timedelta(days=conversation_retention_days)

    handover_ids = list(
        session.scalars(
            select(Handover.id).where(
                or_(
                    (Handover.status.in_(FINISHED_STATUSES))
                    & Handover.closed_at.is_not(None)
                    & (Handover.closed_at < finished_cutoff),
                    Handover.created_at < open_cutoff,
                )
            )
        )
    )
    notes = transcript_events = 0
    if handover_ids:
        session.execute(
            update(Handover)
            .where(Handover.returned_from_id.in_(handover_ids))
            .values(returned_from_id=None)
        )
        notes = _rowcount(
            session.execute(delete(HandoverNote).where(HandoverNote.handover_id.in_(handover_ids)))
        )
        transcript_events = _rowcount(
            session.execute(
                delete(TranscriptEvent).where(TranscriptEvent.handover_id.in_(handover_ids))
            )
        )
        session.execute(delete(Handover).where(Handover.id.in_(handover_ids)))

    # Conversations a remaining handover names are kept with the handover.
    held = select(Handover.conversation_id)
    expired_conversations = list(
        session.scalars(
            select(Conversation.id).where(
                or_(
                    (Conversation.last_at < events_cutoff) & Conversation.id.not_in(held),
                    Conversation.erased_at < events_cutoff,
                )
            )
        )
    )
    stale = (
        ConversationEvent.received_at < events_cutoff
    ) & ConversationEvent.conversation_id.not_in(held)
    conversations = set(
        session.scalars(select(ConversationEvent.conversation_id).where(stale).distinct())
    ) | set(expired_conversations)
    events = _rowcount(
        session.execute(
            delete(ConversationEvent).where(stale).execution_options(synchronize_session=False)
        )
    )
    for chunk in _chunks(expired_conversations):
        events += _rowcount(
            session.execute(
                delete(ConversationEvent)
                .where(ConversationEvent.conversation_id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        )
        session.execute(
            delete(Conversation)
            .where(Conversation.id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    senders = _rowcount(
        session.execute(
            delete(ConversationSender)
            .where(ConversationSender.updated_at < events_cutoff)
            .execution_options(synchronize_session=False)
        )
    )

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
    if conversations:
        still_there: set[str] = set()
        for chunk in _chunks(sorted(conversations)):
            still_there |= set(
                session.scalars(
                    select(ConversationEvent.conversation_id)
                    .where(ConversationEvent.conversation_id.in_(chunk))
                    .distinct()
                )
            )
            still_there |= set(
                session.scalars(
                    select(Handover.conversation_id).where(Handover.conversation_id.in_(chunk))
                )
            )
            still_there |= set(
                session.scalars(select(Conversation.id).where(Conversation.id.in_(chunk)))
            )
        gone = conversations - still_there
        if gone:
            for row in session.scalars(
                select(AuditLog).where(
                    AuditLog.resource_type == "conversation", AuditLog.resource_id.in_(gone)
                )
            ):
                row.resource_id = pseudonym(row.resource_id)
                row.detail = _ids_only(row.detail)
                audit_rows += 1
    session.commit()
    return PurgeResult(
        handovers=len(handover_ids),
        notes=notes,
        transcript_events=transcript_events,
        events=events,
        audit_rows=audit_rows,
        conversations=len(expired_conversations),
        senders=senders,
    )
