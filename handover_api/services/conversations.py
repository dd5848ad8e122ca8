"""The conversation log: events the action server appends, deduplicated.

No organisation reads this log through a handover: a handover carries its own transcript (see
``services/handovers.py``). The log is kept for ``VOORDEUR_CONVERSATION_RETENTION_DAYS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handover_api.models import ConversationEvent
from handover_api.schemas import EventIn


@dataclass(frozen=True, slots=True)
class AppendResult:
    received: int
    created: int

    @property
    def duplicates(self) -> int:
        return self.received - self.created


def event_key(event: EventIn) -> str:
    """The client's ``event_id``, or a stable hash of (sender, at, text) when it sent none."""
    if event.event_id:
        return event.event_id
    raw = f"{event.sender}\x1f{event.at.isoformat()}\x1f{event.text}".encode()
    return "h:" + hashlib.sha256(raw).hexdigest()[:40]


def _row(conversation_id: str, key: str, event: EventIn) -> ConversationEvent:
    return ConversationEvent(
        conversation_id=conversation_id,
        event_id=key,
        sender=event.sender,
        text=event.text,
        at=event.at,
        intent=event.intent,
    )


def append_events(
    session: Session, *, conversation_id: str, events: Sequence[EventIn]
) -> AppendResult:
    """Store events that are not stored yet (same ``event_id`` in the conversation = duplicate).

    Safe under concurrent calls: a batch that hits the unique constraint is retried one event
    at a time, each in its own SAVEPOINT. Does not commit.
    """
    unique: dict[str, EventIn] = {}
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
        created = 0
        for key, event in new.items():
            try:
                with session.begin_nested():
                    session.add(_row(conversation_id, key, event))
                created += 1
            except IntegrityError:
                continue
        return AppendResult(received=len(events), created=created)
    return AppendResult(received=len(events), created=len(new))
