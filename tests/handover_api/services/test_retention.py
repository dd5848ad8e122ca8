"""Retention: purge of finished handovers, stale transcripts and audit details."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, ConversationEvent, Handover, HandoverNote
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


def _age_events(session: Session, conversation_id: str, when: datetime) -> None:
    for event in session.scalars(
        select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id)
    ):
        event.at = when
    session.commit()


def test_purge(
    client: TestClient,
    service_headers: Headers,
    peel_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    old_closed = create_handover(conversation_id="whatsapp:+31612345678")
    client.post(
        f"/api/v1/handovers/{old_closed['id']}/notes", json={"text": "n"}, headers=peel_headers
    )
    client.get(f"/api/v1/handovers/{old_closed['id']}", headers=peel_headers)  # audit rows
    recent_closed = create_handover()
    old_open = create_handover()
    returned = create_handover()
    successor_id = client.patch(
        f"/api/v1/handovers/{returned['id']}",
        json={
            "status": "returned",
            "reason": "beter lokaal",
            "destination": {"level": "local", "organisation": "helmond-wijkteam", "team": "wmo"},
        },
        headers=peel_headers,
    ).json()["returned_to"]["id"]

    _finish(session, old_closed["id"], "closed", OLD)
    _finish(session, recent_closed["id"], "closed", NOW - timedelta(days=10))
    _finish(session, returned["id"], "returned", OLD)
    for h in (old_closed, recent_closed, old_open, returned):
        _age_events(session, h["conversation_id"], OLD)
    # events of a conversation that never led to a handover
    client.post(
        "/api/v1/conversations/no-handover/events",
        json={
            "events": [
                {"event_id": "a", "sender": "user", "text": "hoi", "at": OLD.isoformat()},
                {"event_id": "b", "sender": "user", "text": "nog steeds", "at": NOW.isoformat()},
            ]
        },
        headers=service_headers,
    )

    result = purge(session, retention_days=90, now=NOW)

    assert result.handovers == 2
    assert result.notes == 1
    assert result.events == 4  # 3 of old_closed + 1 old one of no-handover
    remaining = set(session.scalars(select(Handover.id)))
    assert uuid.UUID(old_closed["id"]) not in remaining
    assert uuid.UUID(returned["id"]) not in remaining
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

    def events(conv: str) -> list[str]:
        return list(
            session.scalars(
                select(ConversationEvent.event_id).where(ConversationEvent.conversation_id == conv)
            )
        )

    assert events(old_closed["conversation_id"]) == []
    assert len(events(old_open["conversation_id"])) == 3  # open handover keeps its transcript
    assert len(events(recent_closed["conversation_id"])) == 3  # still within retention
    assert len(events(returned["conversation_id"])) == 3  # the successor is still open
    assert events("no-handover") == ["b"]

    # audit rows are kept, with ids only; the phone-number conversation id is pseudonymised
    rows = session.scalars(select(AuditLog).where(AuditLog.resource_id == old_closed["id"])).all()
    assert {r.action for r in rows} >= {"handover.create", "note.create", "handover.read"}
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
    transcript_rows = session.scalars(
        select(AuditLog).where(AuditLog.action == "transcript.read")
    ).all()
    ids = {r.resource_id for r in transcript_rows}
    assert "whatsapp:+31612345678" not in ids
    assert pseudonym("whatsapp:+31612345678") in ids
    returned_rows = session.scalars(
        select(AuditLog).where(AuditLog.resource_id == returned["id"])
    ).all()
    assert {r.action for r in returned_rows} == {"handover.create", "handover.update"}
    assert all((r.detail or {}).get("purged") for r in returned_rows)
    # 3 rows of old_closed + 2 of the returned one + 1 transcript read
    assert result.audit_rows == len(rows) + len(returned_rows) + 1 == 6


def test_purge_is_idempotent_and_keeps_fresh_data(
    create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    first = purge(session, retention_days=90, now=NOW)
    second = purge(session, retention_days=90, now=NOW)
    assert first.handovers == 0 and first.events == 0
    assert second == first
    assert session.get(Handover, uuid.UUID(handover["id"])) is not None
