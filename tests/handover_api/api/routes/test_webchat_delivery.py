"""A professional's message to the resident's web chat: queued while the chat is open (it
asked for messages in the last 10 minutes), picked up by the widget through the public
``GET /api/v1/webchat/messages?sender=...`` and then delivered; otherwise "not sent"."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.consumer import sender_key
from handover_api.core.logging import RedactingFilter
from handover_api.models import Conversation, Handover, HandoverMessage, utcnow
from handover_api.services import messaging
from handover_api.services.directory import load_directory
from tests.handover_api.conftest import REPO_ROOT, SERVICE_TOKEN

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]
URL = "/api/v1/webchat/messages"


def widget_sender() -> str:
    return "web-" + uuid.uuid4().hex[:24]


def web_handover(create: Create, session: Session, sender: str) -> dict[str, Any]:
    """A handover from the web chat whose conversation belongs to ``sender``."""
    handover = create()  # channel web
    session.add(
        Conversation(
            id=handover["conversation_id"],
            sender_key=sender_key(SERVICE_TOKEN, sender),
            channel="web",
            municipality_code="GM0794",
        )
    )
    session.commit()
    return handover


def send(client: TestClient, headers: Headers, handover_id: str, text: str) -> Any:
    response = client.post(
        f"/api/v1/handovers/{handover_id}/messages", json={"text": text}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def pick_up(client: TestClient, sender: str, **headers: str) -> Any:
    return client.get(URL, params={"sender": sender}, headers=headers)


def test_open_chat_gets_the_message_once_and_it_is_delivered(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    sender = widget_sender()
    handover = web_handover(create_handover, session, sender)
    first = pick_up(client, sender)  # the chat opens: nothing yet, the chat is now "seen"
    assert first.status_code == 200 and first.json() == []
    assert first.headers["cache-control"] == "no-store"

    thread = client.get(f"/api/v1/handovers/{handover['id']}/messages", headers=peel_headers)
    assert thread.json()["next_message"] == {
        "mode": "text",
        "reason": "webchat_open",
        "last_inbound_at": None,
        "template_example": False,
    }
    message = send(client, peel_headers, handover["id"], "Goedemorgen, mijn BSN is 123456782")
    assert (message["status"], message["status_reason"]) == ("queued", None)

    response = pick_up(client, sender)
    assert response.status_code == 200
    [item] = response.json()
    assert item["id"] == message["id"]
    assert item["organisation_name"] == load_directory(REPO_ROOT / "data").display_name("peel61")
    assert item["author"] == "Medewerker"  # first name of "Medewerker peel61"
    assert item["body"] == message["body"] and "123456782" not in item["body"]
    assert set(item) == {"id", "organisation_name", "author", "body", "at"}

    stored = session.get(HandoverMessage, uuid.UUID(message["id"]))
    assert stored is not None and stored.status == "delivered" and stored.status_at is not None
    assert pick_up(client, sender).json() == []  # once only
    [listed] = client.get(
        f"/api/v1/handovers/{handover['id']}/messages", headers=peel_headers
    ).json()["items"]
    assert listed["status"] == "delivered"


def test_only_the_senders_own_messages(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    alice, bob = widget_sender(), widget_sender()
    mine = web_handover(create_handover, session, alice)
    theirs = web_handover(create_handover, session, bob)
    pick_up(client, alice)
    pick_up(client, bob)
    send(client, peel_headers, mine["id"], "Voor Alice")
    send(client, peel_headers, theirs["id"], "Voor Bob")

    assert pick_up(client, widget_sender()).json() == []  # a stranger gets nothing
    assert [m["body"] for m in pick_up(client, alice).json()] == ["Voor Alice"]
    assert [m["body"] for m in pick_up(client, bob).json()] == ["Voor Bob"]


def test_sender_must_look_like_the_widgets(client: TestClient) -> None:
    for bad in ("web-123", "", "+31612345678", "whatsapp:+31612345678xxxxxxxx", "a" * 129):
        response = client.get(URL, params={"sender": bad})
        assert response.status_code == 422, bad
        assert bad not in response.text or not bad
    assert client.get(URL).status_code == 422


def test_closed_chat_means_not_sent(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    sender = widget_sender()
    handover = web_handover(create_handover, session, sender)
    # Never seen: closed.
    message = send(client, peel_headers, handover["id"], "Eerste")
    assert (message["status"], message["status_reason"]) == ("not_sent", "webchat")
    # Seen 11 minutes ago: closed.
    conversation = session.get(Conversation, handover["conversation_id"])
    assert conversation is not None
    conversation.webchat_seen_at = utcnow() - timedelta(minutes=11)
    session.commit()
    message = send(client, peel_headers, handover["id"], "Tweede")
    assert (message["status"], message["status_reason"]) == ("not_sent", "webchat")
    # Seen 9 minutes ago: open, the message waits.
    conversation.webchat_seen_at = utcnow() - timedelta(minutes=9)
    session.commit()
    message = send(client, peel_headers, handover["id"], "Derde")
    assert (message["status"], message["status_reason"]) == ("queued", None)
    # A "not sent" message is never handed out later; the queued one is.
    assert [m["body"] for m in pick_up(client, sender).json()] == ["Derde"]


def test_plan_follows_the_clock(create_handover: Create, session: Session) -> None:
    sender = widget_sender()
    created = web_handover(create_handover, session, sender)
    handover = session.get(Handover, uuid.UUID(created["id"]))
    assert handover is not None
    directory = load_directory(REPO_ROOT / "data")
    seen = utcnow()
    conversation = session.get(Conversation, created["conversation_id"])
    assert conversation is not None
    conversation.webchat_seen_at = seen
    session.commit()

    def plan_at(minutes: float) -> messaging.Plan:
        return messaging.plan_for(
            session,
            handover=handover,
            settings=None,
            directory=directory,
            now=seen + timedelta(minutes=minutes),
        )

    assert plan_at(9.9).notice == "webchat_open" and plan_at(9.9).mode == "text"
    assert plan_at(10.1).not_sent_reason == "webchat" and plan_at(10.1).mode == "not_sent"


def test_pickup_marks_the_chat_seen_and_skips_erased_conversations(
    client: TestClient, create_handover: Create, session: Session
) -> None:
    sender = widget_sender()
    handover = web_handover(create_handover, session, sender)
    pick_up(client, sender)
    conversation = session.scalars(
        select(Conversation).where(Conversation.id == handover["conversation_id"])
    ).one()
    assert conversation.webchat_seen_at is not None
    assert utcnow() - messaging._aware(conversation.webchat_seen_at) < timedelta(minutes=1)


def test_other_browser_origins_are_refused(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    sender = widget_sender()
    handover = web_handover(create_handover, session, sender)
    pick_up(client, sender)
    send(client, peel_headers, handover["id"], "Hallo")
    refused = pick_up(client, sender, origin="https://evil.example")
    assert refused.status_code == 403
    # Nothing was handed out: the message still waits.
    assert [m["body"] for m in pick_up(client, sender).json()] == ["Hallo"]


def test_cors_for_a_configured_origin(settings: Any, session: Session) -> None:
    from handover_api.api.deps import get_session
    from handover_api.main import create_app

    origin = "https://www.helmond.nl"
    application = create_app(settings.model_copy(update={"VOORDEUR_CORS_ORIGINS": origin}))
    application.dependency_overrides[get_session] = lambda: session
    with TestClient(application) as c:
        response = c.get(URL, params={"sender": widget_sender()}, headers={"Origin": origin})
    assert response.status_code == 200 and response.json() == []
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["cache-control"] == "no-store"


def test_the_access_log_never_shows_the_sender() -> None:
    sender = widget_sender()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"{URL}?sender={sender}", "1.1", 200),
        None,
    )
    assert RedactingFilter().filter(record)
    assert sender not in record.getMessage()
    assert "sender=[verwijderd]" in record.getMessage()
