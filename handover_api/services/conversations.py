"""The conversation log: events appended by the action server or taken from Rasa's event
stream (``services/conversation_log.py``), deduplicated.

No organisation reads this log through a handover: a handover carries its own transcript (see
``services/handovers.py``). Front-office reviewers of the conversation's municipality read it
(redacted). The log is kept for ``VOORDEUR_CONVERSATION_RETENTION_DAYS`` unless a handover
holds the conversation (``services/retention.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handover_api.models import ConversationEvent
from handover_api.schemas import EventIn


@dataclass(slots=True)
class LogEvent:
    """One message for the log as ``conversation_log`` builds it: a key the caller derived,
    texts already cleaned, and the classifier's view of a resident message."""

    event_id: str
    sender: str
    text: str
    at: datetime
    intent: str | None = None
    confidence: float | None = None
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class AppendResult:
    received: int
    created: int
    # The keys stored by this call (the others were there already).
    created_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def duplicates(self) -> int:
        return self.received - self.created


def event_key(event: EventIn | LogEvent) -> str:
    """The client's ``event_id``, or a stable hash of (sender, at, text) when it sent none."""
    if event.event_id:
        return event.event_id
    raw = f"{event.sender}\x1f{event.at.isoformat()}\x1f{event.text}".encode()
    return "h:" + hashlib.sha256(raw).hexdigest()[:40]


def _row(conversation_id: str, key: str, event: EventIn | LogEvent) -> ConversationEvent:
    row = ConversationEvent(
        conversation_id=conversation_id,
        event_id=key,
        sender=event.sender,
        text=event.text,
        at=event.at,
        intent=event.intent,
    )
    if isinstance(event, LogEvent):
        row.confidence = event.confidence
        row.fallback = event.fallback
    return row


def append_events(
    session: Session, *, conversation_id: str, events: Sequence[EventIn | LogEvent]
) -> AppendResult:
    """Store events that are not stored yet (same ``event_id`` in the conversation = duplicate).

    Safe under concurrent calls: a batch that hits the unique constraint is retried one event
    at a time, each in its own SAVEPOINT. Does not commit.
    """
    unique: dict[str, EventIn | LogEvent] = {}
    for event in events:
        unique.setdefault(event_key(event), event)
    if not unique:
        return AppendResult(received=len(events), created=0)
    known = set(
        session.scalars(
            select(ConversationEvent.event_id).where(
                ConversationEvent.conversation_id == conversation_id,
                ConversationEvent.event_id.in_(list(unique)),
            )
        )
    )
    new = {key: event for key, event in unique.items() if key not in known}
    if not new:
        return AppendResult(received=len(events), created=0)
    try:
        with session.begin_nested():
            session.add_all(_row(conversation_id, key, event) for key, event in new.items())
    except IntegrityError:
        created: set[str] = set()
        for key, event in new.items():
            try:
                with session.begin_nested():
                    session.add(_row(conversation_id, key, event))
                created.add(key)
            except IntegrityError:
                continue
        return AppendResult(
            received=len(events), created=len(created), created_keys=frozenset(created)
        )
    return AppendResult(received=len(events), created=len(new), created_keys=frozenset(new))
