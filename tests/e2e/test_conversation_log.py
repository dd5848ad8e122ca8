"""Every conversation reaches the review log, also without a handover: through the local
profile's event broker (bot/review_broker.py -> POST /api/v1/conversations/rasa-events) and
through the production profile's RabbitMQ queue (handover_api.consumer). Read back from the
handover database, by the HMAC of the sender id (the sender id itself is never stored)."""

import json
import time
import uuid

import httpx
import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from handover_api.consumer import sender_key
from handover_api.models import Conversation, ConversationEvent, ConversationSender
from tests.e2e.conftest import Chat, conversation_database, staff_token
from voordeur_cli.stack import StackConfig

# Events are sent in the background (the broker every 0.5 s; the consumer at once).
WAIT_SECONDS = 30


def _logged(
    engine: Engine, key: str, user_messages: int, *, with_municipality: bool = False
) -> Conversation:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with Session(engine) as session:
            rows = session.scalars(select(Conversation).where(Conversation.sender_key == key)).all()
            done = [
                c
                for c in rows
                if c.user_messages >= user_messages
                and (c.municipality_code or not with_municipality)
            ]
            if done:
                return done[0]
        assert time.monotonic() < deadline, f"conversation not logged in {WAIT_SECONDS} s: {rows}"
        time.sleep(0.5)


def test_a_conversation_without_handover_is_logged_for_review(stack: StackConfig) -> None:
    sender = f"e2e-review-{uuid.uuid4().hex[:8]}"
    chat = Chat(stack, sender)
    first = chat.say("ik heb geen inkomen meer, kan ik bijstand krijgen?")
    assert "computerprogramma (AI)" in Chat.text(first)
    offer = chat.say("Helmond")
    buttons = [b for m in offer for b in m.get("buttons") or []]
    assert buttons, "a handover is offered with buttons"
    chosen = buttons[-1]  # e.g. "Nee": no handover, the conversation still counts
    chat.say(chosen["payload"])
    chat.say("mijn bsn is 123456782")

    engine = conversation_database(stack)
    try:
        conversation = _logged(engine, sender_key(stack.service_token, sender), 4)
        time.sleep(1)  # the last answers of the turn
        with Session(engine) as session:
            conversation = session.get(Conversation, conversation.id) or conversation
            events = session.scalars(
                select(ConversationEvent)
                .where(ConversationEvent.conversation_id == conversation.id)
                .order_by(ConversationEvent.at, ConversationEvent.id)
            ).all()
            senders = session.scalars(select(ConversationSender)).all()
            dumped = json.dumps(
                [
                    [(e.text, e.event_id, e.intent) for e in events],
                    [(c.id, c.sender_key) for c in session.scalars(select(Conversation))],
                    [(s.sender_key, s.conversation_id, s.pending) for s in senders],
                ]
            )
    finally:
        engine.dispose()

    assert conversation.id.startswith("c-"), "the session's opaque reference"
    assert conversation.channel == "web"
    assert conversation.municipality_code == "GM0794"
    assert conversation.user_messages == 4
    assert conversation.min_confidence is not None
    assert conversation.fallbacks == sum(e.fallback for e in events if e.sender == "user")

    assert events[0].sender == "bot" and "computerprogramma (AI)" in events[0].text, (
        "the greeting, published before the conversation reference, is logged first"
    )
    users = [e for e in events if e.sender == "user"]
    assert [e.text for e in users[:2]] == [
        "ik heb geen inkomen meer, kan ik bijstand krijgen?",
        "Helmond",
    ]
    assert users[2].text == chosen["title"], "a button click is logged as the button's title"
    assert "123456782" not in users[3].text
    assert all(e.intent for e in users) and all(e.confidence is not None for e in users)
    assert sender not in dumped, "the sender id is never stored"


def test_the_front_office_reviews_and_corrects_a_logged_conversation(stack: StackConfig) -> None:
    """The reviewer's side of the same path: Helmond's front office finds the conversation
    through the contract's GET /api/v1/conversations, marks a misunderstood message with
    POST /api/v1/conversations/{id}/reviews, and the export carries it as Rasa NLU YAML."""
    sender = f"e2e-fo-{uuid.uuid4().hex[:8]}"
    chat = Chat(stack, sender)
    chat.say("hallo")
    chat.say("ik woon in helmond en mn uitkering is gestopt wat nu")
    engine = conversation_database(stack)
    try:
        logged = _logged(engine, sender_key(stack.service_token, sender), 2, with_municipality=True)
    finally:
        engine.dispose()

    token = staff_token(stack, f"fo-{uuid.uuid4().hex[:6]}", "gemeente-helmond", "reviewer")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as api:
        page = api.get("/api/v1/conversations", params={"handover": "false", "page_size": 100})
        assert page.status_code == 200, page.text
        found = [c for c in page.json()["items"] if c["id"] == logged.id]
        assert found, "the conversation is listed for the municipality's front office"
        users = [e for e in found[0]["events"] if e["sender"] == "user"]
        assert [e["text"] for e in users][:1] == ["hallo"]
        assert all(e["intent"] and e["confidence"] is not None for e in users)

        story = users[1]
        marked = api.post(
            f"/api/v1/conversations/{logged.id}/reviews",
            json={
                "event_id": story["event_id"],
                "verdict": "misunderstood",
                "correct_intent": "ask_bijstand",
            },
        )
        assert marked.status_code == 201, marked.text
        export = api.get("/api/v1/reviews/export")
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/yaml")
        nlu = {item["intent"]: item["examples"] for item in yaml.safe_load(export.text)["nlu"]}
        assert "mn uitkering is gestopt" in nlu["ask_bijstand"]

        # another organisation's front office does not see it
        other = staff_token(stack, f"fo-{uuid.uuid4().hex[:6]}", "werkplein-ijmond", "reviewer")
        theirs = api.get(
            "/api/v1/conversations",
            params={"page_size": 100},
            headers={"Authorization": f"Bearer {other}"},
        ).json()
        assert logged.id not in {c["id"] for c in theirs["items"]}
