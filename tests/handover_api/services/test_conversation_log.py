"""Review data from Rasa's event stream (services/conversation_log.py)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.orm import Session

from handover_api import consumer
from handover_api.core.config import Settings
from handover_api.core.db import make_engine, make_session_factory
from handover_api.models import Conversation, ConversationEvent, ConversationSender
from handover_api.services.conversation_log import (
    LOW_CONFIDENCE,
    MAX_PENDING,
    MAX_TEXT,
    ingest,
    normalise,
)

SENDER = "whatsapp:+31612345678"
KEY = "a" * 64
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC).timestamp()
GREETING = "Welkom bij Voordeur, de digitale assistent van uw gemeente."


def session_start(ts: float, ref: str | None) -> list[dict[str, Any]]:
    """What Rasa publishes for action_session_start: the greeting comes before the ref."""
    events: list[dict[str, Any]] = [
        {"event": "action", "timestamp": ts, "name": "action_session_start"},
        {"event": "bot", "timestamp": ts + 0.1, "text": GREETING, "data": {}},
        {"event": "session_started", "timestamp": ts + 0.2},
    ]
    if ref:
        events.append(
            {"event": "slot", "timestamp": ts + 0.3, "name": "conversation_ref", "value": ref}
        )
    events.append({"event": "action", "timestamp": ts + 0.4, "name": "action_listen"})
    return [{"sender_id": SENDER, **e} for e in events]


def user(
    ts: float,
    text: str,
    intent: str = "inform",
    confidence: float = 0.9,
    *,
    channel: str | None = "web",
    input_channel: str = "rest",
) -> dict[str, Any]:
    return {
        "sender_id": SENDER,
        "event": "user",
        "timestamp": ts,
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [{"entity": "telefoonnummer", "value": "0612345678"}],
            "text": text,
        },
        "input_channel": input_channel,
        "metadata": {"channel": channel} if channel else {},
        "message_id": "m1",
    }


def bot(ts: float, text: str, buttons: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    data = {"buttons": [{"title": t, "payload": p} for t, p in buttons or []]}
    return {"sender_id": SENDER, "event": "bot", "timestamp": ts, "text": text, "data": data}


def action(ts: float, name: str) -> dict[str, Any]:
    return {"sender_id": SENDER, "event": "action", "timestamp": ts, "name": name}


def slot(ts: float, name: str, value: Any) -> dict[str, Any]:
    return {"sender_id": SENDER, "event": "slot", "timestamp": ts, "name": name, "value": value}


def log(session: Session, conversation_id: str) -> list[ConversationEvent]:
    return list(
        session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.at, ConversationEvent.id)
        )
    )


def turn_one(ts: float) -> list[dict[str, Any]]:
    return [
        user(ts, "ik heb geen inkomen meer", "bijstand", 0.95),
        action(ts + 0.1, "action_answer"),
        bot(ts + 0.2, "Wilt u een medewerker spreken?", [("Ja", "/affirm"), ("Nee", "/deny")]),
        action(ts + 0.3, "action_listen"),
    ]


def test_pending_until_the_reference_then_in_order(session: Session) -> None:
    # Batch 1 ends before the reference: the greeting waits.
    first = ingest(session, sender_key=KEY, events=session_start(T0, None)[:3])
    assert first.pending == 1 and first.stored == 0 and first.conversation_id is None
    assert session.scalars(select(Conversation)).all() == []

    second = ingest(
        session,
        sender_key=KEY,
        events=[
            slot(T0 + 0.3, "conversation_ref", "c-1"),
            action(T0 + 0.4, "action_listen"),
            *turn_one(T0 + 10),
        ],
    )
    session.commit()
    assert second.conversation_id == "c-1" and second.pending == 0 and second.stored == 3
    rows = log(session, "c-1")
    assert [(r.sender, r.text) for r in rows] == [
        ("bot", GREETING),
        ("user", "ik heb geen inkomen meer"),
        ("bot", "Wilt u een medewerker spreken?"),
    ]
    assert rows[1].intent == "bijstand" and rows[1].confidence == pytest.approx(0.95)
    conversation = session.get(Conversation, "c-1")
    assert conversation is not None
    assert conversation.sender_key == KEY
    assert conversation.started_at == datetime.fromtimestamp(T0 + 0.1, UTC)
    assert conversation.last_at == datetime.fromtimestamp(T0 + 10.2, UTC)
    assert conversation.channel == "web"
    assert conversation.user_messages == 1
    sender = session.get(ConversationSender, KEY)
    assert sender is not None and sender.conversation_id == "c-1"


def test_replay_is_a_no_op(session: Session) -> None:
    batches = [session_start(T0, "c-2"), turn_one(T0 + 10), [user(T0 + 20, "/affirm", "affirm")]]
    for batch in batches:
        ingest(session, sender_key=KEY, events=batch)
    session.commit()
    before = [(r.event_id, r.text, r.fallback) for r in log(session, "c-2")]
    conversation = session.get(Conversation, "c-2")
    assert conversation is not None
    counters = (conversation.user_messages, conversation.fallbacks, conversation.low_confidence)

    for batch in batches:  # the broker retried everything
        assert ingest(session, sender_key=KEY, events=batch).stored == 0
    session.commit()
    assert [(r.event_id, r.text, r.fallback) for r in log(session, "c-2")] == before
    assert (
        (
            conversation.user_messages,
            conversation.fallbacks,
            conversation.low_confidence,
        )
        == counters
        == (2, 0, 0)
    )


def test_a_button_payload_is_stored_as_the_button_title(session: Session) -> None:
    ingest(session, sender_key=KEY, events=session_start(T0, "c-3") + turn_one(T0 + 10))
    # The click arrives in the next batch (the next turn); a typed payload without a matching
    # button of the previous message stays as it is.
    ingest(session, sender_key=KEY, events=[user(T0 + 20, "/deny", "deny", 1.0)])
    ingest(session, sender_key=KEY, events=[user(T0 + 30, "/affirm", "affirm", 1.0)])
    session.commit()
    texts = [r.text for r in log(session, "c-3") if r.sender == "user"]
    assert texts == ["ik heb geen inkomen meer", "Nee", "/affirm"]


def test_fallback_and_confidence_counters(session: Session) -> None:
    ingest(session, sender_key=KEY, events=session_start(T0, "c-4"))
    # nlu_fallback: marked at once
    ingest(
        session,
        sender_key=KEY,
        events=[user(T0 + 10, "blub", "nlu_fallback", 0.31), action(T0 + 10.1, "action_listen")],
    )
    # low confidence, and the next action (in the next batch) is the not-understood path
    ingest(session, sender_key=KEY, events=[user(T0 + 20, "hoe zit dat", "inform", 0.42)])
    ingest(
        session,
        sender_key=KEY,
        events=[
            action(T0 + 20.1, "action_not_understood"),
            bot(T0 + 20.2, "Sorry, dat begreep ik niet."),
            action(T0 + 20.3, "action_listen"),
        ],
    )
    # understood; a later fallback action (not the next one) does not mark it
    ingest(
        session,
        sender_key=KEY,
        events=[
            user(T0 + 30, "bijstand", "bijstand", 0.97),
            action(T0 + 30.1, "action_answer"),
            action(T0 + 30.2, "utter_default"),
        ],
    )
    # Rasa's default fallback action also counts
    ingest(
        session,
        sender_key=KEY,
        events=[user(T0 + 40, "qwerty", "inform", 0.6), action(T0 + 40.1, "utter_default")],
    )
    session.commit()
    users = [r for r in log(session, "c-4") if r.sender == "user"]
    assert [(r.text, r.fallback) for r in users] == [
        ("blub", True),
        ("hoe zit dat", True),
        ("bijstand", False),
        ("qwerty", True),
    ]
    conversation = session.get(Conversation, "c-4")
    assert conversation is not None
    assert conversation.user_messages == 4
    assert conversation.fallbacks == 3
    assert LOW_CONFIDENCE == 0.5
    assert conversation.low_confidence == 2
    assert conversation.min_confidence == pytest.approx(0.31)
    # replaying the late action does not count the fallback twice
    ingest(session, sender_key=KEY, events=[action(T0 + 20.1, "action_not_understood")])
    assert conversation.fallbacks == 3


def test_bsn_stripped_text_capped_and_no_sender_id_stored(session: Session) -> None:
    long_text = "x" * (MAX_TEXT + 500)
    ingest(
        session,
        sender_key=KEY,
        whatsapp=True,
        events=[
            *session_start(T0, "c-5"),
            user(T0 + 10, "mijn bsn is 123456782", channel=None, input_channel="twilio"),
            bot(T0 + 11, f"U schreef {SENDER}? Nee: BSN 111222333"),
            user(T0 + 12, long_text, channel=None, input_channel="twilio"),
            slot(T0 + 12.1, "telefoonnummer", "0612345678"),
        ],
    )
    session.commit()
    rows = log(session, "c-5")
    assert rows[1].text == "mijn bsn is [BSN]"  # stored redacted, as reviewers read it
    assert "111222333" not in rows[2].text
    assert rows[3].text == "x" * MAX_TEXT
    conversation = session.get(Conversation, "c-5")
    assert conversation is not None and conversation.channel == "whatsapp"

    everything = json.dumps(
        [
            [(r.event_id, r.intent, r.conversation_id) for r in rows],
            [(c.id, c.sender_key) for c in session.scalars(select(Conversation))],
            [(s.sender_key, s.pending) for s in session.scalars(select(ConversationSender))],
        ]
    )
    assert "612345678" not in everything and "whatsapp:" not in everything


@pytest.mark.parametrize(
    ("whatsapp", "channel"), [(False, "sms"), (True, "whatsapp")], ids=["sms", "whatsapp"]
)
def test_twilio_channel_by_sender_prefix(session: Session, whatsapp: bool, channel: str) -> None:
    ingest(
        session,
        sender_key=KEY,
        whatsapp=whatsapp,
        events=[
            *session_start(T0, "c-6"),
            user(T0 + 1, "hoi", channel=None, input_channel="twilio"),
        ],
    )
    conversation = session.get(Conversation, "c-6")
    assert conversation is not None and conversation.channel == channel


def test_municipality_from_the_slots(session: Session) -> None:
    ingest(session, sender_key=KEY, events=[*session_start(T0, "c-7"), user(T0 + 1, "hoi")])
    conversation = session.get(Conversation, "c-7")
    assert conversation is not None and conversation.municipality_code is None
    ingest(session, sender_key=KEY, events=[slot(T0 + 2, "gemeente", "Amsterdam")])
    assert conversation.municipality_code is None  # not a configured municipality
    ingest(session, sender_key=KEY, events=[slot(T0 + 3, "gemeente", "helmond")])
    assert conversation.municipality_code == "GM0794"
    ingest(session, sender_key=KEY, events=[slot(T0 + 4, "gemeente_code", "GM0453")])
    assert conversation.municipality_code == "GM0453"


def test_a_new_session_is_a_new_conversation(session: Session) -> None:
    ingest(session, sender_key=KEY, events=[*session_start(T0, "c-8"), user(T0 + 1, "hoi")])
    ingest(
        session,
        sender_key=KEY,
        events=[*session_start(T0 + 7200, "c-9"), user(T0 + 7201, "ik ben er weer")],
    )
    session.commit()
    assert [r.text for r in log(session, "c-8")] == [GREETING, "hoi"]
    assert [r.text for r in log(session, "c-9")] == [GREETING, "ik ben er weer"]
    # an event after a session start but before its reference waits, it does not go to c-9
    result = ingest(session, sender_key=KEY, events=session_start(T0 + 14400, None))
    assert result.pending == 2 and result.conversation_id is None  # greeting, action_listen


def test_pending_is_bounded(session: Session, caplog: pytest.LogCaptureFixture) -> None:
    events = session_start(T0, None) + [
        user(T0 + 10 + i, f"bericht {i}") for i in range(MAX_PENDING + 20)
    ]
    with caplog.at_level(logging.WARNING):
        result = ingest(session, sender_key=KEY, events=events)
    assert result.pending == MAX_PENDING
    assert "dropped" in caplog.text
    sender = session.get(ConversationSender, KEY)
    assert sender is not None
    assert sender.pending[-1]["text"] == f"bericht {MAX_PENDING + 19}"
    assert "bericht 0" not in json.dumps(sender.pending)


def test_a_reference_of_another_sender_is_not_joined(session: Session) -> None:
    ingest(session, sender_key=KEY, events=[*session_start(T0, "c-10"), user(T0 + 1, "hoi")])
    other = "b" * 64
    result = ingest(
        session, sender_key=other, events=[*session_start(T0, "c-10"), user(T0 + 2, "ik ook")]
    )
    assert result.conversation_id is None
    assert [r.text for r in log(session, "c-10")] == [GREETING, "hoi"]


def test_normalise_ignores_what_review_does_not_need() -> None:
    assert normalise({"event": "slot", "name": "naam", "value": "Jan"}) is None
    assert normalise({"event": "user_featurization", "timestamp": T0}) is None
    assert normalise("not an event") is None
    weird = normalise(
        {
            "event": "user",
            "timestamp": float("nan"),
            "text": "a\x00b\ud800c",
            "parse_data": {"intent": {"name": ["x"], "confidence": True}},
            "input_channel": ["rest"],
            "metadata": {"channel": ["web"]},
        }
    )
    assert weird == {
        "t": "user",
        "ts": None,
        "text": "abc",
        "intent": None,
        "conf": None,
        "channel": None,
    }


def test_concurrent_batches_of_one_sender(engine: Engine) -> None:
    """Real threads and connections (no test transaction): eight batches of a new sender at
    once (all wait for the reference: no row may be lost to the race that creates the sender
    row), then the reference, then eight more at once. The sender row lock (PostgreSQL) or
    SQLite's single writer keeps every count exact."""
    factory = make_session_factory(engine)
    key = uuid.uuid4().hex * 2
    ref = f"c-{uuid.uuid4().hex}"
    errors: list[BaseException] = []

    def send(batch: list[dict[str, Any]], barrier: threading.Barrier) -> None:
        try:
            with factory() as s:
                barrier.wait()
                ingest(s, sender_key=key, events=batch)
                s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    def at_once(batches: list[list[dict[str, Any]]]) -> None:
        barrier = threading.Barrier(len(batches))
        threads = [threading.Thread(target=send, args=(b, barrier)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)

    try:
        at_once([[user(T0 + 10 + i, f"bericht {i}")] for i in range(8)])
        with factory() as s:
            ingest(s, sender_key=key, events=[slot(T0 + 20, "conversation_ref", ref)])
            s.commit()
        at_once([[user(T0 + 30 + i, f"bericht {8 + i}")] for i in range(8)])
        assert errors == []
        with factory() as s:
            conversation = s.get(Conversation, ref)
            assert conversation is not None and conversation.user_messages == 16
            texts = sorted(r.text for r in log(s, ref) if r.sender == "user")
            assert texts == sorted(f"bericht {i}" for i in range(16))
    finally:
        with factory() as s:
            s.execute(delete(ConversationEvent).where(ConversationEvent.conversation_id == ref))
            s.execute(delete(Conversation).where(Conversation.id == ref))
            s.execute(delete(ConversationSender).where(ConversationSender.sender_key == key))
            s.commit()


def test_the_reference_is_kept_exactly(session: Session) -> None:
    """A random hex reference can hold nine digits that pass the elfproef: it is an id, not
    text, and must stay equal to the handover's conversation_id."""
    ref = "c-00123456782abcdef00000000000000"
    result = ingest(session, sender_key=KEY, events=session_start(T0, ref))
    assert result.conversation_id == ref
    assert session.get(Conversation, ref) is not None
    assert normalise({"event": "slot", "name": "conversation_ref", "value": "c-1\n"}) is None


# --- the RabbitMQ consumer's message handling (handover_api/consumer.py), without RabbitMQ ---


def test_consumer_sender_key_matches_the_broker() -> None:
    """tests/bot/test_review_broker.py pins the same value for bot/review_broker.py."""
    assert consumer.sender_key("test-service-token-0123456789", SENDER) == (
        "44f6e32d074773d4d8848c1167df564bab9a68d80e2038b9138acd11cae06e64"
    )


def _factory(connection: Connection) -> Callable[[], Session]:
    def make() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint")

    return make


def test_consumer_stores_a_message_and_acks(connection: Connection, session: Session) -> None:
    key = consumer.derive_key("test-service-token-0123456789")
    factory = _factory(connection)
    messages = [
        *session_start(T0, "c-mq"),
        user(T0 + 1, "hoi", channel=None, input_channel="twilio"),
    ]
    outcomes = [consumer.handle_message(factory, key, json.dumps(m).encode()) for m in messages]
    assert outcomes == ["ack"] * len(messages)
    conversation = session.get(Conversation, "c-mq")
    assert conversation is not None
    assert conversation.sender_key == consumer.sender_key("test-service-token-0123456789", SENDER)
    assert conversation.channel == "whatsapp"  # from the "whatsapp:" sender id, not stored
    assert [r.text for r in log(session, "c-mq")] == [GREETING, "hoi"]
    sender = session.get(ConversationSender, conversation.sender_key)
    assert sender is not None and "whatsapp:" not in json.dumps(sender.pending)


@pytest.mark.parametrize(
    "body", [b"not json", b"\xff\xfe", b"[1, 2]", json.dumps({"event": "user"}).encode()]
)
def test_consumer_rejects_what_can_never_be_stored(connection: Connection, body: bytes) -> None:
    assert consumer.handle_message(_factory(connection), b"k", body) == "reject"


def test_consumer_requeues_when_the_database_is_down() -> None:
    unreachable = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/nothing", connect_args={"connect_timeout": 1}
    )
    message = json.dumps(user(T0, "hoi")).encode()
    try:
        outcome = consumer.handle_message(make_session_factory(unreachable), b"k", message)
    finally:
        unreachable.dispose()
    assert outcome == "requeue"


class _FakeChannel:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, bool | None]] = []
        self.slept: list[float] = []
        self.connection = self

    def basic_ack(self, delivery_tag: int) -> None:
        self.calls.append(("ack", delivery_tag, None))

    def basic_nack(self, delivery_tag: int, requeue: bool) -> None:
        self.calls.append(("nack", delivery_tag, requeue))

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_consumer_answers_rabbitmq(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = iter(["ack", "requeue", "requeue", "reject", "ack"])
    monkeypatch.setattr(consumer, "handle_message", lambda *_: next(outcomes))
    worker = consumer.Consumer(consumer.RabbitConfig(), lambda: None, b"k")  # type: ignore[arg-type,return-value]
    channel = _FakeChannel()
    for tag in range(1, 6):
        worker._on_message(channel, SimpleNamespace(delivery_tag=tag), None, b"{}")
    assert channel.calls == [
        ("ack", 1, None),
        ("nack", 2, True),
        ("nack", 3, True),
        ("nack", 4, False),
        ("ack", 5, None),
    ]
    assert channel.slept == [0.5, 1.0]  # backing off while the database is down


def test_consumer_configuration_from_the_environment() -> None:
    config = consumer.RabbitConfig.from_env({"RABBITMQ_QUEUE": "voordeur_e2e_events"})
    assert config == consumer.RabbitConfig(queue="voordeur_e2e_events")
    assert consumer.RabbitConfig.from_env({}).queue == "voordeur_events"


def test_the_privacy_statement_names_review_and_the_default_term() -> None:
    text = (Path(__file__).resolve().parents[3] / "privacy" / "privacyverklaring.md").read_text(
        encoding="utf-8"
    )
    defaults = Settings.model_fields
    assert f"{defaults['VOORDEUR_CONVERSATION_RETENTION_DAYS'].default} dagen" in text
    assert f"nog {defaults['VOORDEUR_RETENTION_DAYS'].default} dagen" in text
    assert "frontoffice van uw eigen gemeente" in text
