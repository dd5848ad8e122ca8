"""POST /api/v1/conversations/rasa-events: Rasa's event stream for review (service only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.api.routes.conversations import MAX_RASA_EVENTS
from handover_api.models import Conversation, ConversationEvent

Headers = dict[str, str]
URL = "/api/v1/conversations/rasa-events"
KEY = "0123456789abcdef" * 4
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()

EVENTS: list[dict[str, Any]] = [
    {"event": "action", "timestamp": T0, "name": "action_session_start"},
    {"event": "bot", "timestamp": T0 + 0.1, "text": "Welkom bij Voordeur.", "data": {}},
    {"event": "session_started", "timestamp": T0 + 0.2},
    {"event": "slot", "timestamp": T0 + 0.3, "name": "conversation_ref", "value": "c-ingest"},
    {"event": "action", "timestamp": T0 + 0.4, "name": "action_listen"},
    {
        "event": "user",
        "timestamp": T0 + 5,
        "text": "Mijn BSN is 123456782",
        "parse_data": {"intent": {"name": "inform", "confidence": 0.4}, "entities": []},
        "input_channel": "rest",
        "metadata": {"channel": "web"},
    },
    {"event": "action", "timestamp": T0 + 5.1, "name": "action_not_understood"},
]


def body(**overrides: Any) -> dict[str, Any]:
    return {"sender_key": KEY, "events": EVENTS, **overrides}


def test_ingest_stores_and_counts(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    first = client.post(URL, json=body(), headers=service_headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 7, "stored": 2, "pending": 0}
    again = client.post(URL, json=body(), headers=service_headers)
    assert again.json() == {"received": 7, "stored": 0, "pending": 0}

    rows = session.scalars(
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == "c-ingest")
        .order_by(ConversationEvent.at)
    ).all()
    assert [(r.sender, r.text, r.fallback) for r in rows] == [
        ("bot", "Welkom bij Voordeur.", False),
        ("user", "Mijn BSN is [BSN]", True),  # stored redacted
    ]
    conversation = session.get(Conversation, "c-ingest")
    assert conversation is not None
    assert (conversation.user_messages, conversation.fallbacks, conversation.low_confidence) == (
        1,
        1,
        1,
    )
    assert conversation.channel == "web"


def test_before_the_reference_events_wait(client: TestClient, service_headers: Headers) -> None:
    response = client.post(URL, json=body(events=EVENTS[:3]), headers=service_headers)
    assert response.json() == {"received": 3, "stored": 0, "pending": 1}


def test_only_the_service_may_send(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    assert client.post(URL, json=body()).status_code == 401
    assert client.post(URL, json=body(), headers={"Authorization": "Bearer nope"}).status_code == (
        401
    )
    assert client.post(URL, json=body(), headers=peel_headers).status_code == 403
    assert session.get(Conversation, "c-ingest") is None


@pytest.mark.parametrize(
    "bad",
    [
        {"sender_key": "+31612345678"},  # a sender id instead of its HMAC
        {"sender_key": KEY.upper()},
        {"events": []},
        {"events": [{"event": "user", "timestamp": T0}] * (MAX_RASA_EVENTS + 1)},
        {"events": [{"timestamp": T0, "text": "geen soort"}]},
        {"events": [{"event": "User Uttered", "timestamp": T0}]},
        {"events": [{"event": "user", "timestamp": "gisteren"}]},
        {"events": ["user"]},
        {"whatsapp": "ja"},
        {"sender_id": "whatsapp:+31612345678"},  # unknown top-level field
    ],
    ids=[
        "sender-id",
        "uppercase-key",
        "no-events",
        "too-many",
        "no-event-type",
        "odd-event-type",
        "text-timestamp",
        "not-an-object",
        "whatsapp-not-bool",
        "extra-field",
    ],
)
def test_validation(client: TestClient, service_headers: Headers, bad: dict[str, Any]) -> None:
    response = client.post(URL, json=body(**bad), headers=service_headers)
    assert response.status_code == 422, response.text


def test_odd_event_content_is_ignored_not_an_error(
    client: TestClient, service_headers: Headers
) -> None:
    odd = [
        {"event": "user", "text": {"nested": True}, "parse_data": "x", "metadata": [1]},
        {"event": "bot", "text": None, "data": {"buttons": "nee"}},
        {"event": "slot", "name": "conversation_ref", "value": ["c-1"]},
        {"event": "slot", "name": "gemeente_code", "value": {"code": "GM0794"}},
        {"event": "action", "name": None, "timestamp": 1e300},
    ]
    response = client.post(URL, json=body(events=odd), headers=service_headers)
    assert response.status_code == 200, response.text


def test_a_conversation_named_rasa_events_keeps_its_own_route(
    client: TestClient, service_headers: Headers
) -> None:
    response = client.post(
        "/api/v1/conversations/rasa-events/events",
        json={"events": [{"sender": "user", "text": "hoi", "at": "2026-11-02T09:00:00Z"}]},
        headers=service_headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["conversation_id"] == "rasa-events"
