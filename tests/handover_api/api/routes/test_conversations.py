"""POST /conversations/{id}/events and GET /conversations/{id}/transcript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, ConversationEvent

Headers = dict[str, str]
Create = Callable[..., dict[str, Any]]

EVENTS = [
    {
        "event_id": "m1",
        "sender": "user",
        "text": "Mijn mail is jan@example.nl",
        "at": "2025-03-04T10:00:00Z",
    },
    {
        "event_id": "m2",
        "sender": "bot",
        "text": "Dank u.",
        "at": "2025-03-04T10:00:05Z",
        "intent": None,
    },
    {
        "sender": "user",
        "text": "IBAN NL91ABNA0417164300",
        "at": "2025-03-04T10:00:09+01:00",
        "intent": "inform",
    },
]


def events_url(conversation_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}/events"


def test_append_events_dedupes(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    first = client.post(events_url("c-1"), json={"events": EVENTS}, headers=service_headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"conversation_id": "c-1", "received": 3, "created": 3, "duplicates": 0}
    # a retry with one new event, and a duplicate inside the batch
    new = {"event_id": "m4", "sender": "bot", "text": "Nog iets?", "at": "2025-03-04T10:01:00Z"}
    second = client.post(
        events_url("c-1"), json={"events": [*EVENTS, new, new]}, headers=service_headers
    )
    assert second.json() == {"conversation_id": "c-1", "received": 5, "created": 1, "duplicates": 4}
    rows = session.scalars(
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == "c-1")
        .order_by(ConversationEvent.at)
    ).all()
    # an event without event_id gets a stable derived id; 10:00:09+01:00 is stored as 09:00:09 UTC
    assert [r.event_id[:2] for r in rows] == ["h:", "m1", "m2", "m4"]
    assert rows[0].at.isoformat() == "2025-03-04T09:00:09+00:00"
    # the same event_id in another conversation is not a duplicate
    other = client.post(events_url("c-2"), json={"events": EVENTS[:1]}, headers=service_headers)
    assert other.json()["created"] == 1


def test_events_need_the_service_token(client: TestClient, peel_headers: Headers) -> None:
    assert client.post(events_url("c-1"), json={"events": EVENTS}).status_code == 401
    assert (
        client.post(events_url("c-1"), json={"events": EVENTS}, headers=peel_headers).status_code
        == 403
    )


def test_events_are_validated(client: TestClient, service_headers: Headers) -> None:
    bad = client.post(
        events_url("c-1"),
        json={"events": [{"sender": "agent", "text": "x\x07", "at": "gisteren"}]},
        headers=service_headers,
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["detail"]}
    assert fields == {"events.0.sender", "events.0.text", "events.0.at"}
    assert (
        client.post(events_url("c-1"), json={"events": []}, headers=service_headers).status_code
        == 422
    )


def test_transcript_redacted_by_default_full_on_request_both_audited(
    client: TestClient,
    service_headers: Headers,
    peel_headers: Headers,
    create_handover: Create,
    make_payload: Callable[..., dict[str, Any]],
    session: Session,
) -> None:
    handover = create_handover(transcript=EVENTS)
    conv = handover["conversation_id"]
    # Events appended to the conversation log later were not shared with this handover.
    late = {"event_id": "m9", "sender": "user", "text": "later bericht", "at": "2025-03-05T10:00Z"}
    client.post(events_url(conv), json={"events": [late]}, headers=service_headers)
    for url in (
        f"/api/v1/conversations/{conv}/transcript",
        f"/api/v1/handovers/{handover['id']}/transcript",
    ):
        redacted = client.get(url, headers=peel_headers)
        assert redacted.status_code == 200
        body = redacted.json()
        assert body["view"] == "redacted" and body["conversation_id"] == conv
        texts = [e["text"] for e in body["events"]]
        assert "Mijn mail is [e-mail]" in texts and "IBAN [IBAN]" in texts
        assert "later bericht" not in texts
        assert "jan@example.nl" not in redacted.text

        full = client.get(url, params={"view": "full"}, headers=peel_headers).json()
        assert full["view"] == "full"
        assert "Mijn mail is jan@example.nl" in [e["text"] for e in full["events"]]
        assert [e["at"] for e in full["events"]] == sorted(e["at"] for e in full["events"])
        assert client.get(url, params={"view": "raw"}, headers=peel_headers).status_code == 422

    audit = session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "transcript.read", AuditLog.resource_id == handover["id"])
        .order_by(AuditLog.id)
    ).all()
    assert [(a.actor, (a.detail or {}).get("view")) for a in audit] == [
        ("staff:anna", "redacted"),
        ("staff:anna", "full"),
        ("staff:anna", "redacted"),
        ("staff:anna", "full"),
    ]


def test_conversation_log_alone_is_read_by_nobody(
    client: TestClient, service_headers: Headers, peel_headers: Headers, session: Session
) -> None:
    """Events appended without a handover are nobody's to read; the attempt is audited."""
    client.post(events_url("lonely"), json={"events": EVENTS}, headers=service_headers)
    response = client.get("/api/v1/conversations/lonely/transcript", headers=peel_headers)
    assert response.status_code == 404
    assert "jan@example.nl" not in response.text
    assert (
        client.get("/api/v1/conversations/lonely/transcript", headers=service_headers).status_code
        == 403
    )
    refused = session.scalars(
        select(AuditLog).where(AuditLog.action == "access.refused").order_by(AuditLog.id)
    ).all()
    assert [(a.actor, a.resource_id, (a.detail or {}).get("status")) for a in refused] == [
        ("staff:anna", "GET /api/v1/conversations/{conversation_id}/transcript", 404),
        ("service:action-server", "GET /api/v1/conversations/{conversation_id}/transcript", 403),
    ]
    assert session.scalars(select(AuditLog).where(AuditLog.resource_id == "lonely")).first() is None
