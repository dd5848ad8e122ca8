"""DELETE /api/v1/conversations/{id}: the resident's "verwijder mijn gegevens" erases the review
copy of the conversation (service only); events that arrive later are dropped; reviewers,
statistics and retention treat the tombstone as gone."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handover_api.models import (
    AuditLog,
    Conversation,
    ConversationEvent,
    ConversationSender,
    Handover,
    ReviewMark,
    TranscriptEvent,
)
from handover_api.services import conversation_log, reviews, stats
from handover_api.services.directory import load_directory
from handover_api.services.principals import Principal
from handover_api.services.retention import purge
from tests.handover_api.conftest import REPO_ROOT, bearer
from tests.handover_api.web.test_review_pages import (
    HELMOND,
    T0,
    add_conversation,
    login,
    make_user,
)

Headers = dict[str, str]
Create = Callable[..., dict[str, Any]]
KEY = "ab" * 32
REF = "c-0123456789abcdef0123456789abcdef"
TS = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()
RASA = "/api/v1/conversations/rasa-events"


def url(conversation_id: str) -> str:
    return f"/api/v1/conversations/{conversation_id}"


def session_events(ref: str, ts: float = TS) -> list[dict[str, Any]]:
    """A session start (greeting before the reference) and one resident turn."""
    return [
        {"event": "action", "timestamp": ts, "name": "action_session_start"},
        {"event": "bot", "timestamp": ts + 0.1, "text": "Welkom bij Voordeur."},
        {"event": "session_started", "timestamp": ts + 0.2},
        {"event": "slot", "timestamp": ts + 0.3, "name": "conversation_ref", "value": ref},
        {"event": "slot", "timestamp": ts + 0.4, "name": "gemeente_code", "value": "GM0794"},
        *turn("hoi, ik heb schulden", ts + 5),
    ]


def turn(text: str, ts: float) -> list[dict[str, Any]]:
    return [
        {
            "event": "user",
            "timestamp": ts,
            "text": text,
            "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.2}},
            "input_channel": "rest",
            "metadata": {"channel": "web"},
        },
        {"event": "action", "timestamp": ts + 0.1, "name": "action_not_understood"},
        {"event": "bot", "timestamp": ts + 0.2, "text": "Sorry, dat begreep ik niet."},
    ]


def post_events(client: TestClient, headers: Headers, events: list[dict[str, Any]]) -> Any:
    response = client.post(RASA, json={"sender_key": KEY, "events": events}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def stored(session: Session, conversation_id: str) -> list[str]:
    return list(
        session.scalars(
            select(ConversationEvent.text)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.at)
        )
    )


def mark(session: Session, conversation: Conversation, event_id: int) -> None:
    reviews.mark_message(
        session,
        conversation=conversation,
        event_id=event_id,
        correct_intent="ask_schuldhulp",
        principal=Principal(kind="staff", username="r", display_name="R", organisation="peel61"),
    )
    session.commit()


# --- the route -----------------------------------------------------------------------------------


def test_erasure_deletes_messages_and_marks_and_keeps_a_tombstone(
    client: TestClient, service_headers: Headers, session: Session, create_handover: Create
) -> None:
    conversation, events = add_conversation(session, messages=HELMOND)
    other, _ = add_conversation(session, messages=HELMOND)
    mark(session, conversation, events[0].id)
    handover = create_handover(conversation_id=conversation.id)
    transcript_before = session.scalar(
        select(func.count()).select_from(TranscriptEvent)
    )  # the handover's own copy

    response = client.delete(url(conversation.id), headers=service_headers)
    assert response.status_code == 204 and response.content == b""

    session.expire_all()
    assert stored(session, conversation.id) == []
    assert (
        session.scalars(
            select(ReviewMark).where(ReviewMark.conversation_id == conversation.id)
        ).all()
        == []
    )
    tomb = session.get(Conversation, conversation.id)
    assert tomb is not None and tomb.erased_at is not None
    assert (tomb.user_messages, tomb.fallbacks, tomb.low_confidence) == (0, 0, 0)
    assert tomb.min_confidence is None and tomb.sender_key == ""
    assert tomb.municipality_code is None and tomb.channel is None
    assert tomb.started_at == tomb.last_at == tomb.erased_at
    # nothing else touched: another conversation, the handover and its transcript
    assert len(stored(session, other.id)) == len(HELMOND)
    assert session.scalar(select(func.count()).select_from(TranscriptEvent)) == transcript_before
    assert session.get(Handover, uuid.UUID(handover["id"])) is not None

    audit = session.scalars(select(AuditLog).where(AuditLog.action == "conversation.erase")).all()
    assert [(a.actor, a.resource_type, a.resource_id, a.detail) for a in audit] == [
        ("service:action-server", "conversation", conversation.id, {"repeat": False})
    ]


def test_erasure_is_idempotent(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    conversation, _ = add_conversation(session, messages=HELMOND)
    assert client.delete(url(conversation.id), headers=service_headers).status_code == 204
    session.expire_all()
    first = session.get(Conversation, conversation.id)
    assert first is not None
    erased_at = first.erased_at
    assert client.delete(url(conversation.id), headers=service_headers).status_code == 204
    session.expire_all()
    again = session.get(Conversation, conversation.id)
    assert again is not None and again.erased_at == erased_at  # the first erasure counts
    details = session.scalars(
        select(AuditLog.detail).where(AuditLog.action == "conversation.erase").order_by(AuditLog.id)
    ).all()
    assert details == [{"repeat": False}, {"repeat": True}]


def test_an_unknown_conversation_gets_a_tombstone(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    assert client.delete(url("c-nooit-gezien"), headers=service_headers).status_code == 204
    tomb = session.get(Conversation, "c-nooit-gezien")
    assert tomb is not None and tomb.erased_at is not None and tomb.sender_key == ""


def test_only_the_service_may_erase(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    conversation, _ = add_conversation(session, messages=HELMOND)
    reviewer = bearer(make_user(session, "peel61"))
    auditor = bearer(make_user(session, "peel61", role="auditor"))
    assert client.delete(url(conversation.id)).status_code == 401
    assert client.delete(url(conversation.id), headers=bearer("nope")).status_code == 401
    for headers in (peel_headers, reviewer, auditor):
        assert client.delete(url(conversation.id), headers=headers).status_code == 403
    session.expire_all()
    assert len(stored(session, conversation.id)) == len(HELMOND)
    kept = session.get(Conversation, conversation.id)
    assert kept is not None and kept.erased_at is None
    assert not session.scalars(
        select(AuditLog).where(AuditLog.action == "conversation.erase")
    ).all()


def test_the_id_is_validated(client: TestClient, service_headers: Headers) -> None:
    assert client.delete(url("c-%01x"), headers=service_headers).status_code == 422
    assert client.delete(url("c" * 201), headers=service_headers).status_code == 422


# --- late events ---------------------------------------------------------------------------------


def test_events_after_the_erasure_are_dropped(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    """The confirming turn ("ja") is published after the action erased the conversation."""
    assert post_events(client, service_headers, session_events(REF))["stored"] == 3
    assert client.delete(url(REF), headers=service_headers).status_code == 204

    late = post_events(client, service_headers, turn("ja, verwijder alles", TS + 20))
    assert late["stored"] == 0 and late["pending"] == 0
    # a replay of the whole session stores nothing either
    assert post_events(client, service_headers, session_events(REF))["stored"] == 0
    session.expire_all()
    assert stored(session, REF) == []
    tomb = session.get(Conversation, REF)
    assert tomb is not None and tomb.user_messages == 0 and tomb.municipality_code is None
    sender = session.get(ConversationSender, KEY)
    assert sender is not None and sender.conversation_id == REF
    assert sender.pending == [{"t": "state", "buttons": [], "awaiting": None}]

    # the next session of the same resident is a new conversation, stored as ever
    assert post_events(client, service_headers, session_events("c-next", TS + 3600))["stored"]
    assert len(stored(session, "c-next")) == 3


def test_events_waiting_for_the_reference_of_an_erased_conversation_are_dropped(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    """Erased before the broker delivered anything: the greeting waits for the reference,
    which then names the tombstone."""
    assert client.delete(url(REF), headers=service_headers).status_code == 204
    events = session_events(REF)
    assert post_events(client, service_headers, events[:3])["pending"] == 1
    result = post_events(client, service_headers, events[3:])
    assert result["stored"] == 0 and result["pending"] == 0
    session.expire_all()
    assert stored(session, REF) == []
    sender = session.get(ConversationSender, KEY)
    assert sender is not None and sender.pending == [
        {"t": "state", "buttons": [], "awaiting": None}
    ]


def test_ingest_itself_drops_events_of_an_erased_conversation(session: Session) -> None:
    conversation_log.ingest(session, sender_key=KEY, events=session_events(REF))
    result = conversation_log.erase(session, conversation_id=REF)
    assert result.events == 3 and result.already is False
    late = conversation_log.ingest(session, sender_key=KEY, events=turn("ja", TS + 20))
    assert late.stored == 0 and late.conversation_id == REF
    assert stored(session, REF) == []
    assert conversation_log.is_erased(session, REF)
    assert not conversation_log.is_erased(session, "c-other")


def test_the_action_servers_event_route_stores_nothing_for_an_erased_conversation(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    assert client.delete(url(REF), headers=service_headers).status_code == 204
    body = {"events": [{"sender": "user", "text": "hallo", "at": "2026-11-02T09:00:00Z"}]}
    response = client.post(f"{url(REF)}/events", json=body, headers=service_headers)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 0
    assert stored(session, REF) == []


# --- reviewers and statistics --------------------------------------------------------------------


def test_reviewers_no_longer_find_or_open_an_erased_conversation(
    client: TestClient, service_headers: Headers, session: Session
) -> None:
    erased, _ = add_conversation(session, messages=HELMOND)
    kept, _ = add_conversation(session, messages=HELMOND, at=T0 + timedelta(hours=1))
    token = make_user(session, "peel61")
    assert client.delete(url(erased.id), headers=service_headers).status_code == 204

    api = client.get("/api/v1/conversations", headers=bearer(token)).json()
    assert [item["id"] for item in api["items"]] == [kept.id] and api["total"] == 1
    search = client.get(
        "/api/v1/conversations", params={"q": "deurwaarder"}, headers=bearer(token)
    ).json()
    assert [item["id"] for item in search["items"]] == [kept.id]
    mark_body = {"event_id": "e0", "verdict": "misunderstood", "correct_intent": "apply"}
    assert (
        client.post(f"{url(erased.id)}/reviews", json=mark_body, headers=bearer(token)).status_code
        == 404
    )

    login(client, token)
    listing = client.get("/staff/gesprekken").text
    assert kept.id in listing and erased.id not in listing
    link = f"/staff/gesprekken/{erased.id}"
    assert link not in client.get("/staff/gesprekken", params={"q": erased.id}).text
    found = client.get("/staff/gesprekken", params={"q": "deurwaarder"}).text
    assert f"/staff/gesprekken/{kept.id}" in found and link not in found
    page = client.get(f"/staff/gesprekken/{erased.id}")
    assert page.status_code == 404 and "Dit gesprek bestaat niet" in page.text


def test_a_row_marked_erased_is_hidden_even_with_its_municipality(session: Session) -> None:
    """The reviewers' queries check ``erased_at`` themselves, not only the cleared fields."""
    directory = load_directory(REPO_ROOT / "data")
    conversation, _ = add_conversation(session, messages=HELMOND)
    conversation.erased_at = datetime.now(UTC)
    session.commit()
    rows, total = reviews.list_conversations(
        session,
        directory=directory,
        organisation="peel61",
        filters=reviews.ConversationFilter(q="deurwaarder"),
    )
    assert rows == [] and total == 0
    assert (
        reviews.get_for_organisation(
            session, directory=directory, organisation="peel61", conversation_id=conversation.id
        )
        is None
    )


def test_statistics_leave_erased_conversations_out(session: Session) -> None:
    directory = load_directory(REPO_ROOT / "data")
    day = date(2025, 3, 4)
    erased, _ = add_conversation(session, messages=HELMOND)
    add_conversation(session, messages=HELMOND)

    def figures() -> stats.Stats:
        return stats.compute(
            session, directory=directory, organisation="peel61", date_from=day, date_to=day
        )

    assert figures().conversations == 2
    erased.erased_at = datetime.now(UTC)  # also with its counters and municipality left
    session.commit()
    assert figures().conversations == 1
    conversation_log.erase(session, conversation_id=erased.id)
    session.commit()
    assert figures().conversations == 1


# --- retention -----------------------------------------------------------------------------------


def test_retention_deletes_tombstones_after_the_normal_period(
    session: Session, create_handover: Create
) -> None:
    now = datetime.now(UTC)
    for ref in ("c-erased-long-ago", "c-erased-held", "c-erased-recently"):
        conversation_log.erase(session, conversation_id=ref)
    create_handover(conversation_id="c-erased-held")  # a handover does not keep a tombstone
    for ref, days in (("c-erased-long-ago", 15), ("c-erased-held", 15), ("c-erased-recently", 2)):
        tomb = session.get(Conversation, ref)
        assert tomb is not None
        tomb.erased_at = tomb.last_at = tomb.started_at = now - timedelta(days=days)
    session.commit()

    result = purge(session, retention_days=90, conversation_retention_days=14, now=now)

    assert result.conversations == 2
    assert set(session.scalars(select(Conversation.id))) == {"c-erased-recently"}


def test_the_privacy_statement_says_the_chat_erases_the_review_copy_at_once() -> None:
    text = " ".join((REPO_ROOT / "privacy" / "privacyverklaring.md").read_text().split())
    assert "'verwijder mijn gegevens'" in text
    assert "verwijderen wij meteen de kopie van dit gesprek die de frontoffice leest" in text
