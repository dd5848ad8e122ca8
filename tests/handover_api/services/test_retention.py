"""Retention: purge of finished handovers, stale transcripts, review conversations and audit
details."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import (
    AuditLog,
    Conversation,
    ConversationEvent,
    ConversationSender,
    Handover,
    HandoverNote,
    ReviewMark,
    TranscriptEvent,
)
from handover_api.services.conversation_log import ingest
from handover_api.services.retention import pseudonym, purge

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=120)


def _finish(session: Session, handover_id: str, status: str, when: datetime) -> Handover:
    row = session.get(Handover, uuid.UUID(handover_id))
    assert row is not None
    row.status = status
    row.closed_at = when
    session.commit()
    return row


def _arrived(session: Session, conversation_id: str, event_id: str, when: datetime) -> None:
    """Pretend an event reached the server at ``when`` (retention counts server time)."""
    for event in session.scalars(
        select(ConversationEvent).where(
            ConversationEvent.conversation_id == conversation_id,
            ConversationEvent.event_id == event_id,
        )
    ):
        event.received_at = when
    session.commit()


def _transcript_lines(session: Session, handover_id: str) -> int:
    return len(
        session.scalars(
            select(TranscriptEvent).where(TranscriptEvent.handover_id == uuid.UUID(handover_id))
        ).all()
    )


def test_purge(
    client: TestClient,
    service_headers: Headers,
    peel_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    old_closed = create_handover()
    client.post(
        f"/api/v1/handovers/{old_closed['id']}/notes", json={"text": "n"}, headers=peel_headers
    )
    client.get(f"/api/v1/handovers/{old_closed['id']}", headers=peel_headers)  # audit rows
    recent_closed = create_handover()
    old_open = create_handover()
    ancient_open = create_handover()
    returned = create_handover()
    successor_id = client.patch(
        f"/api/v1/handovers/{returned['id']}",
        json={
            "status": "returned",
            "reason": "beter lokaal",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
        },
        headers=peel_headers,
    ).json()["returned_to"]["id"]

    _finish(session, old_closed["id"], "closed", OLD)
    _finish(session, recent_closed["id"], "closed", NOW - timedelta(days=10))
    _finish(session, returned["id"], "returned", OLD)
    never_closed = session.get(Handover, uuid.UUID(ancient_open["id"]))
    assert never_closed is not None
    never_closed.created_at = NOW - timedelta(days=400)
    opened = session.get(Handover, uuid.UUID(old_open["id"]))
    assert opened is not None
    opened.created_at = OLD
    session.commit()

    # The conversation log: an event whose client clock says "now" but that arrived long ago
    # goes; one that claims an old time but arrived today stays (server time counts).
    client.post(
        "/api/v1/conversations/c-log/events",
        json={
            "events": [
                {"event_id": "a", "sender": "user", "text": "hoi", "at": NOW.isoformat()},
                {"event_id": "b", "sender": "user", "text": "nog steeds", "at": OLD.isoformat()},
            ]
        },
        headers=service_headers,
    )
    _arrived(session, "c-log", "a", NOW - timedelta(days=15))

    result = purge(
        session, retention_days=90, conversation_retention_days=14, max_open_days=365, now=NOW
    )

    assert result.handovers == 3  # old closed, old returned, never closed for 400 days
    assert result.notes == 1
    assert result.transcript_events == 9  # 3 lines each
    assert result.events == 1
    remaining = set(session.scalars(select(Handover.id)))
    for gone in (old_closed, returned, ancient_open):
        assert uuid.UUID(gone["id"]) not in remaining
    assert {
        uuid.UUID(recent_closed["id"]),
        uuid.UUID(old_open["id"]),
        uuid.UUID(successor_id),
    } <= remaining
    successor = session.get(Handover, uuid.UUID(successor_id))
    assert successor is not None and successor.returned_from_id is None
    assert (
        session.scalars(
            select(HandoverNote).where(HandoverNote.handover_id == uuid.UUID(old_closed["id"]))
        ).first()
        is None
    )
    assert _transcript_lines(session, old_closed["id"]) == 0
    assert _transcript_lines(session, old_open["id"]) == 3  # open within the maximum age
    assert _transcript_lines(session, recent_closed["id"]) == 3  # still within retention
    assert _transcript_lines(session, successor_id) == 3  # the successor keeps its own copy
    log = session.scalars(
        select(ConversationEvent.event_id).where(ConversationEvent.conversation_id == "c-log")
    ).all()
    assert list(log) == ["b"]

    # audit rows are kept, with ids only
    rows = session.scalars(select(AuditLog).where(AuditLog.resource_id == old_closed["id"])).all()
    assert {r.action for r in rows} >= {
        "handover.create",
        "note.create",
        "handover.read",
        "transcript.read",
    }
    for row in rows:
        assert row.detail is not None and row.detail["purged"] is True
        assert set(row.detail) <= {
            "handover_id",
            "note_id",
            "reference",
            "purged",
            "new_handover_id",
            "returned_from_id",
            "view",
        }
    returned_rows = session.scalars(
        select(AuditLog).where(AuditLog.resource_id == returned["id"])
    ).all()
    assert {r.action for r in returned_rows} == {"handover.create", "handover.update"}
    assert all((r.detail or {}).get("purged") for r in returned_rows)


def test_audit_rows_naming_a_purged_conversation_get_a_pseudonym(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    """Older audit rows could name a conversation by its SMS number: once the conversation is
    gone, only a pseudonym remains."""
    client.post(
        "/api/v1/conversations/whatsapp:+31612345678/events",
        json={
            "events": [{"event_id": "a", "sender": "user", "text": "hoi", "at": OLD.isoformat()}]
        },
        headers=service_headers,
    )
    _arrived(session, "whatsapp:+31612345678", "a", OLD)
    session.add(
        AuditLog(
            actor="staff:anna",
            action="transcript.read",
            resource_type="conversation",
            resource_id="whatsapp:+31612345678",
            detail={"view": "full"},
        )
    )
    session.commit()
    result = purge(session, retention_days=90, now=NOW)
    assert result.events == 1 and result.audit_rows == 1
    ids = set(session.scalars(select(AuditLog.resource_id)))
    assert "whatsapp:+31612345678" not in ids
    assert pseudonym("whatsapp:+31612345678") in ids


def test_purge_is_idempotent_and_keeps_fresh_data(
    create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    first = purge(session, retention_days=90, now=NOW)
    second = purge(session, retention_days=90, now=NOW)
    assert first.handovers == 0 and first.events == 0
    assert second == first
    assert session.get(Handover, uuid.UUID(handover["id"])) is not None


def _review_conversation(session: Session, ref: str, sender_key: str, when: datetime) -> None:
    """A conversation as Rasa's events leave it (see services/conversation_log.py), with its
    last message, the sender row and a reviewer's mark all at ``when``."""
    ts = when.timestamp()
    ingest(
        session,
        sender_key=sender_key,
        events=[
            {"event": "action", "timestamp": ts - 5, "name": "action_session_start"},
            {"event": "bot", "timestamp": ts - 4, "text": "Welkom"},
            {"event": "slot", "timestamp": ts - 3, "name": "conversation_ref", "value": ref},
            {
                "event": "user",
                "timestamp": ts,
                "text": "blub",
                "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.2}},
            },
        ],
    )
    session.flush()
    event = session.scalars(
        select(ConversationEvent).where(
            ConversationEvent.conversation_id == ref, ConversationEvent.sender == "user"
        )
    ).one()
    session.add(
        ReviewMark(
            event_id=event.id,
            conversation_id=ref,
            correct_intent="bijstand",
            reviewer_username="rita",
            reviewer_display_name="Rita",
            organisation="gemeente-helmond",
        )
    )
    for row in session.scalars(
        select(ConversationEvent).where(ConversationEvent.conversation_id == ref)
    ):
        row.received_at = when
    sender = session.get(ConversationSender, sender_key)
    assert sender is not None
    sender.updated_at = when
    session.commit()


def test_review_conversations_follow_their_last_message_or_their_handover(
    create_handover: Create, session: Session
) -> None:
    old = NOW - timedelta(days=15)
    _review_conversation(session, "c-old", "1" * 64, old)
    _review_conversation(session, "c-recent", "2" * 64, NOW - timedelta(days=2))
    _review_conversation(session, "c-handed-over", "3" * 64, old)
    handover = create_handover(conversation_id="c-handed-over")
    session.add(
        AuditLog(
            actor="staff:rita",
            action="conversation.read",
            resource_type="conversation",
            resource_id="c-old",
            detail={"view": "redacted"},
        )
    )
    session.commit()

    result = purge(session, retention_days=90, conversation_retention_days=14, now=NOW)

    assert result.conversations == 1
    assert result.events == 2  # greeting and message of c-old
    assert result.senders == 2  # of c-old and c-handed-over: untouched for 15 days
    assert set(session.scalars(select(Conversation.id))) == {"c-recent", "c-handed-over"}
    assert set(session.scalars(select(ConversationEvent.conversation_id))) == {
        "c-recent",
        "c-handed-over",
    }
    assert set(session.scalars(select(ReviewMark.conversation_id))) == {
        "c-recent",
        "c-handed-over",
    }
    assert set(session.scalars(select(ConversationSender.sender_key))) == {"2" * 64}
    ids = set(session.scalars(select(AuditLog.resource_id)))
    assert "c-old" not in ids and pseudonym("c-old") in ids

    # The handover goes (closed long ago): its conversation goes with the next purge.
    _finish(session, handover["id"], "closed", OLD)
    again = purge(session, retention_days=90, conversation_retention_days=14, now=NOW)
    assert again.handovers == 1 and again.conversations == 1 and again.events == 2
    assert set(session.scalars(select(Conversation.id))) == {"c-recent"}
    assert set(session.scalars(select(ReviewMark.conversation_id))) == {"c-recent"}
