"""Review data from Rasa's event stream: every conversation, with or without a handover.

Rasa publishes each tracker event (``user``, ``bot``, ``slot``, ``action``,
``session_started``, ...) per sender id, in order: the local profile through
``bot/review_broker.py`` (HTTP, ``POST /api/v1/conversations/rasa-events``), the production
profile through RabbitMQ and ``handover_api/consumer.py``. Both hand them to ``ingest`` with
``sender_key`` (an HMAC of the sender id; the sender id itself, a phone number for SMS and
WhatsApp, is never sent here nor stored).

Which conversation an event belongs to: a session starts with ``action_session_start``, whose
greeting is published *before* the ``SlotSet`` of ``conversation_ref`` (the session's opaque
``c-...`` id, ``actions/session.py``). So a session start opens a pending period: events wait
in ``conversation_senders.pending`` until the reference arrives, then go into that
conversation, and every later event of the sender follows until the next session start.

What is stored per message (``conversation_events``): the text with BSNs stripped (as in
handover transcripts) and at most ``MAX_TEXT`` characters; a button click ("/affirm") as the
title of that button in the assistant's previous message; for resident messages the intent,
its confidence and ``fallback`` when the assistant answered with its not-understood path (the
intent ``nlu_fallback``, or the next action one of ``FALLBACK_ACTIONS``). The key of a message
is derived from (conversation, sender, Rasa's timestamp, text), so a replayed batch stores
nothing twice and counts nothing twice.

State that spans batches (the buttons of the assistant's last message, the resident message
still waiting for the assistant's next action) is kept in ``pending`` as one ``{"t": "state"}``
entry while the sender is in a conversation.

Erasure (``erase``, the resident's "verwijder mijn gegevens"): the conversation's messages and
review marks are deleted and its row becomes a tombstone (``erased_at`` set, counters zeroed,
no sender key, municipality or channel). Rasa publishes the turn that confirmed the erasure
after the erasure itself, so events of an erased conversation are dropped, also those that
were waiting for its reference and every later event of that session; an erasure of a
conversation not (yet) stored creates the tombstone, so its events are dropped too.

Concurrency: the sender's ``conversation_senders`` row is locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite serialises writers) for the whole call, so two batches of one sender never
interleave. ``ingest`` does not commit.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handover_api.models import (
    CHANNELS,
    Conversation,
    ConversationEvent,
    ConversationSender,
    ReviewMark,
    utcnow,
)
from handover_api.services import directory as region_directory
from handover_api.services.conversations import LogEvent, append_events
from handover_api.services.directory import normalise_name
from handover_api.services.redaction import redact, strip_bsn

logger = logging.getLogger(__name__)

# A resident message the classifier was less sure of than this counts as low confidence
# (the FallbackClassifier's threshold in bot/config.yml is the same 0.5).
LOW_CONFIDENCE = 0.5
MAX_TEXT = 10_000
# Events kept for a sender without a conversation reference (the action server did not answer
# the session start, say); beyond this the oldest go, with a warning.
MAX_PENDING = 200
MAX_BUTTONS = 20
# bot/config.yml: nlu_fallback and the RulePolicy's core fallback both lead to
# action_not_understood (core_fallback_action_name); utter_default is its plain answer and
# action_default_fallback Rasa's built-in one.
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_ACTIONS = frozenset({"action_not_understood", "action_default_fallback", "utter_default"})
SESSION_START_ACTION = "action_session_start"
# Actions that are no answer to the resident (Rasa logs none of these today; kept explicit).
NOT_AN_ANSWER = frozenset({"action_extract_slots"})
REF_SLOT = "conversation_ref"
# actions/session.py makes "c-" + 32 hex characters; anything printable without spaces is taken.
REF_RE = re.compile(r"[\x21-\x7e]{1,200}")
# bot/domain/_shared.yml: gemeente_code holds the CBS code ("GM0794"), gemeente the name.
CODE_SLOT = "gemeente_code"
NAME_SLOT = "gemeente"
# How Rasa's input channel names map to the contract's channels (as actions/channels.py);
# the web widget declares metadata.channel "web" on the REST channel, which wins.
INPUT_CHANNELS = {"socketio": "web", "rest": "rest", "cmdline": "shell"}
TWILIO = "twilio"
MAX_CLOCK_SKEW = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    stored: int
    pending: int
    conversation_id: str | None


# --- normalising Rasa's events ---------------------------------------------------------------


def _plain(value: object, limit: int) -> str:
    """No control characters but newline and tab (PostgreSQL cannot hold NUL, UTF-8 no lone
    surrogates)."""
    if not isinstance(value, str):
        return ""
    return "".join(
        ch
        for ch in value[: limit * 2]
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs")
    )[: limit * 2]


def _clean(value: object, limit: int = MAX_TEXT) -> str:
    """Text as it may be stored: plain, BSNs stripped, at most ``limit`` characters."""
    return strip_bsn(_plain(value, limit))[:limit]


def _message_text(value: object) -> str:
    """A message as the review log keeps it: already redacted (phone numbers, addresses, BSNs,
    ...), because reviewers only ever read the redacted text. Storing nothing more is data
    minimisation, and a text search in SQL is then exactly what a reviewer may see."""
    return redact(_plain(value, MAX_TEXT))[:MAX_TEXT]


def _timestamp(event: dict[str, Any]) -> float | None:
    value = event.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _at(ts: float | None) -> datetime:
    """Rasa's timestamp as a UTC datetime; the server's time when missing or implausible."""
    now = utcnow()
    if ts is not None:
        try:
            at = datetime.fromtimestamp(ts, UTC)
        except (OverflowError, OSError, ValueError):
            return now
        if EARLIEST <= at <= now + MAX_CLOCK_SKEW:
            return at
    return now


def _channel(event: dict[str, Any], whatsapp: bool) -> str | None:
    parse_data = event.get("parse_data")
    nested = parse_data.get("metadata") if isinstance(parse_data, dict) else None
    for metadata in (event.get("metadata"), nested):
        if isinstance(metadata, dict) and metadata.get("channel") in CHANNELS:
            return str(metadata["channel"])
    name = event.get("input_channel")
    if name == TWILIO:
        return "whatsapp" if whatsapp else "sms"
    return INPUT_CHANNELS.get(name) if isinstance(name, str) else None


def _intent(event: dict[str, Any]) -> tuple[str | None, float | None]:
    parse_data = event.get("parse_data")
    intent = parse_data.get("intent") if isinstance(parse_data, dict) else None
    if not isinstance(intent, dict):
        return None, None
    name = intent.get("name")
    confidence = intent.get("confidence")
    clean_name = (_plain(name, 100)[:100] or None) if isinstance(name, str) else None
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return clean_name, None
    value = float(confidence)
    return clean_name, (min(max(value, 0.0), 1.0) if math.isfinite(value) else None)


def _buttons(event: dict[str, Any]) -> list[list[str]]:
    data = event.get("data")
    buttons = data.get("buttons") if isinstance(data, dict) else None
    if not isinstance(buttons, list):
        return []
    out = []
    for button in buttons[:MAX_BUTTONS]:
        if isinstance(button, dict) and isinstance(button.get("payload"), str):
            title = _clean(button.get("title"), 200)
            if title:
                out.append([title, button["payload"][:1000]])
    return out


def municipality_code(*, code: object = None, name: object = None) -> str | None:
    """The CBS code of a configured municipality from the ``gemeente_code`` slot or, failing
    that, the ``gemeente`` name (or alias); None when neither names a configured one."""
    try:
        municipalities = region_directory.current().municipalities
    except Exception:  # no readable region configuration: keep a well-formed code as it is
        logger.warning("region configuration unreadable; municipality codes are not checked")
        return code if isinstance(code, str) and len(code) == 6 and code.isalnum() else None
    if isinstance(code, str) and code in municipalities:
        return code
    if isinstance(name, str) and name.strip():
        given = normalise_name(name)
        for municipality in municipalities.values():
            if any(given == normalise_name(n) for n in (municipality.name, *municipality.aliases)):
                return municipality.code
    return None


def normalise(event: object, *, whatsapp: bool = False) -> dict[str, Any] | None:
    """The part of one Rasa event that review needs, JSON-ready and cleaned; None for events
    that do not matter here. Never carries the sender id, entities or other slot values."""
    if not isinstance(event, dict):
        return None
    kind = event.get("event")
    ts = _timestamp(event)
    if kind == "user":
        intent, confidence = _intent(event)
        return {
            "t": "user",
            "ts": ts,
            "text": _message_text(event.get("text")),
            "intent": intent,
            "conf": confidence,
            "channel": _channel(event, whatsapp),
        }
    if kind == "bot":
        return {
            "t": "bot",
            "ts": ts,
            "text": _message_text(event.get("text")),
            "buttons": _buttons(event),
        }
    if kind == "action":
        name = event.get("name")
        if not isinstance(name, str) or not name:
            return None
        if name == SESSION_START_ACTION:
            return {"t": "session_start", "ts": ts}
        return {"t": "action", "ts": ts, "name": name[:200]}
    if kind == "session_started":
        return {"t": "session_started", "ts": ts}
    if kind == "slot":
        name, value = event.get("name"), event.get("value")
        # Never BSN-stripped: a random hex reference can hold 9 digits that pass the elfproef,
        # and it must stay equal to the handover's conversation_id.
        if name == REF_SLOT and isinstance(value, str) and REF_RE.fullmatch(value):
            return {"t": "ref", "ts": ts, "ref": value}
        if name in (CODE_SLOT, NAME_SLOT) and value:
            code = municipality_code(
                code=value if name == CODE_SLOT else None,
                name=value if name == NAME_SLOT else None,
            )
            return {"t": "municipality", "ts": ts, "code": code} if code else None
    return None


def _key(conversation_id: str, sender: str, ts: float | None, text: str) -> str:
    """Same event, same key: the text is hashed after BSN stripping, never before."""
    raw = f"{conversation_id}\x1f{sender}\x1f{ts!r}\x1f{text}".encode()
    return "r:" + hashlib.sha256(raw).hexdigest()[:40]


# --- applying them ---------------------------------------------------------------------------


def _fresh_state() -> dict[str, Any]:
    return {"t": "state", "buttons": [], "awaiting": None}


@dataclass
class _Ingest:
    session: Session
    sender: ConversationSender
    conversation: Conversation | None = None
    queue: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=_fresh_state)
    # Per conversation: messages to store, in order, and resident messages to mark fallback.
    rows: dict[str, list[LogEvent]] = field(default_factory=dict)
    marks: dict[str, list[str]] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    dropped: int = 0
    # Events of an erased conversation, not stored.
    erased: int = 0

    def close(self) -> None:
        """A session starts: nothing after this belongs to the previous conversation."""
        self.conversation = None
        self.queue = []
        self.state = _fresh_state()

    def attach(self, event: dict[str, Any]) -> None:
        ref = str(event["ref"])
        if self.conversation is not None and self.conversation.id == ref:
            return
        conversation = self.conversations.get(ref) or self.session.get(Conversation, ref)
        if conversation is not None and conversation.erased_at is not None:
            # Erased (a tombstone has no sender key): what waited for this reference and
            # whatever follows in this session is dropped.
            self.erased += len(self.queue)
            self.conversations[ref] = conversation
            self.conversation = conversation
            self.queue = []
            self.state = _fresh_state()
            return
        if conversation is not None and conversation.sender_key != self.sender.sender_key:
            logger.warning("conversation reference belongs to another sender; events kept apart")
            self.close()
            return
        at = _at(event.get("ts"))
        if conversation is None:
            first = min([_at(e.get("ts")) for e in self.queue] + [at])
            conversation = Conversation(
                id=ref,
                sender_key=self.sender.sender_key,
                started_at=first,
                last_at=first,
                user_messages=0,
                fallbacks=0,
                low_confidence=0,
            )
            self.session.add(conversation)
        self.conversations[ref] = conversation
        self.conversation = conversation
        self.state = _fresh_state()
        queued, self.queue = self.queue, []
        for queued_event in queued:
            self.apply(queued_event)

    def hold(self, event: dict[str, Any]) -> None:
        self.queue.append(event)
        if len(self.queue) > MAX_PENDING:
            self.dropped += len(self.queue) - MAX_PENDING
            self.queue = self.queue[-MAX_PENDING:]

    def apply(self, event: dict[str, Any]) -> None:
        conversation = self.conversation
        assert conversation is not None
        if conversation.erased_at is not None:
            self.erased += 1
            return
        kind = event["t"]
        rows = self.rows.setdefault(conversation.id, [])
        if kind == "user":
            text = str(event.get("text") or "")
            key = _key(conversation.id, "user", event.get("ts"), text)
            for title, payload in self.state["buttons"]:
                if text == payload:
                    text = title
                    break
            intent = event.get("intent")
            row = LogEvent(
                event_id=key,
                sender="user",
                text=text,
                at=_at(event.get("ts")),
                intent=intent,
                confidence=event.get("conf"),
                fallback=intent in FALLBACK_INTENTS,
            )
            rows.append(row)
            if row.fallback:
                self.marks.setdefault(conversation.id, []).append(key)
            self.state = {"t": "state", "buttons": [], "awaiting": key}
            if conversation.channel is None and event.get("channel"):
                conversation.channel = event["channel"]
        elif kind == "bot":
            text = str(event.get("text") or "")
            if event.get("buttons"):
                self.state["buttons"] = event["buttons"]
            if text:
                key = _key(conversation.id, "bot", event.get("ts"), text)
                rows.append(LogEvent(event_id=key, sender="bot", text=text, at=_at(event["ts"])))
        elif kind == "action":
            if event["name"] in NOT_AN_ANSWER:
                return
            awaiting = self.state.get("awaiting")
            if awaiting and event["name"] in FALLBACK_ACTIONS:
                for row in rows:
                    if row.event_id == awaiting:
                        row.fallback = True
                self.marks.setdefault(conversation.id, []).append(awaiting)
            self.state["awaiting"] = None
        elif kind == "municipality":
            conversation.municipality_code = event["code"]

    def run(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            kind = event["t"]
            if kind == "session_start":
                self.close()
            elif kind == "session_started":
                # The greeting came before it (same session start): keep it waiting.
                if self.conversation is not None:
                    self.close()
            elif kind == "ref":
                self.attach(event)
            elif self.conversation is None:
                self.hold(event)
            else:
                self.apply(event)

    def _mark_stored(self, conversation: Conversation, key: str) -> None:
        """Fallback on a message stored by an earlier batch: set once, counted once."""
        changed = self.session.execute(
            update(ConversationEvent)
            .where(
                ConversationEvent.conversation_id == conversation.id,
                ConversationEvent.event_id == key,
                ConversationEvent.sender == "user",
                ConversationEvent.fallback.is_(False),
            )
            .values(fallback=True)
            .execution_options(synchronize_session=False)
        )
        conversation.fallbacks += int(getattr(changed, "rowcount", 0) or 0)

    @staticmethod
    def _count(conversation: Conversation, row: LogEvent) -> None:
        conversation.started_at = min(conversation.started_at, row.at)
        conversation.last_at = max(conversation.last_at, row.at)
        if row.sender != "user":
            return
        conversation.user_messages += 1
        conversation.fallbacks += int(row.fallback)
        if row.confidence is not None:
            if row.confidence < LOW_CONFIDENCE:
                conversation.low_confidence += 1
            if conversation.min_confidence is None or row.confidence < conversation.min_confidence:
                conversation.min_confidence = row.confidence

    def store(self) -> int:
        """Insert the new messages, keep the counters, apply late fallback marks."""
        stored = 0
        for conversation_id in dict.fromkeys([*self.rows, *self.marks]):
            conversation = self.conversations[conversation_id]
            rows = self.rows.get(conversation_id, [])
            created: frozenset[str] = frozenset()
            if rows:
                result = append_events(self.session, conversation_id=conversation_id, events=rows)
                created = result.created_keys
                stored += result.created
                for row in rows:
                    if row.event_id in created:
                        self._count(conversation, row)
            for key in dict.fromkeys(self.marks.get(conversation_id, [])):
                if key not in created:
                    self._mark_stored(conversation, key)
        return stored

    def save_sender(self) -> None:
        if self.erased:
            logger.info("%d events of an erased conversation dropped", self.erased)
        if self.dropped:
            logger.warning(
                "%d events dropped: no conversation reference arrived for this sender",
                self.dropped,
            )
        if self.conversation is not None:
            self.sender.conversation_id = self.conversation.id
            self.sender.pending = [self.state]
        else:
            self.sender.conversation_id = None
            self.sender.pending = list(self.queue)
        self.sender.updated_at = utcnow()


def _lock_sender(session: Session, sender_key: str) -> ConversationSender:
    """The sender's row, locked until the transaction ends (created when missing)."""
    query = (
        select(ConversationSender)
        .where(ConversationSender.sender_key == sender_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalars(query).one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = ConversationSender(sender_key=sender_key, conversation_id=None, pending=[])
            session.add(row)
    except IntegrityError:  # another call created it first: wait for its lock
        row = session.scalars(query).one()
    return row


def _restore(run: _Ingest) -> None:
    sender = run.sender
    pending = [e for e in (sender.pending or []) if isinstance(e, dict)]
    conversation = (
        run.session.get(Conversation, sender.conversation_id) if sender.conversation_id else None
    )
    if conversation is not None:
        run.conversation = conversation
        run.conversations[conversation.id] = conversation
        state = next((e for e in pending if e.get("t") == "state"), None)
        run.state = dict(state) if state else _fresh_state()
    else:
        run.queue = [e for e in pending if e.get("t") != "state"]


def ingest(
    session: Session,
    *,
    sender_key: str,
    events: list[dict[str, Any]],
    whatsapp: bool = False,
) -> IngestResult:
    """Take Rasa events of one sender, in the order Rasa published them, into the review log
    (see the module docstring). ``whatsapp``: the sender id starts with ``whatsapp:``, so the
    Twilio channel is WhatsApp rather than SMS (the caller knows; the sender id is not sent).
    Does not commit."""
    normalised = [n for n in (normalise(e, whatsapp=whatsapp) for e in events) if n is not None]
    run = _Ingest(session=session, sender=_lock_sender(session, sender_key))
    _restore(run)
    run.run(normalised)
    stored = run.store()
    run.save_sender()
    session.flush()
    return IngestResult(
        received=len(events),
        stored=stored,
        pending=len(run.queue),
        conversation_id=run.conversation.id if run.conversation is not None else None,
    )


# --- erasure ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErasureResult:
    conversation_id: str
    # Messages deleted by this call (0 when erased before or never stored).
    events: int
    # The conversation was erased before (a repeated request).
    already: bool


def is_erased(session: Session, conversation_id: str) -> bool:
    """True when the conversation was erased (its events must not be stored again)."""
    erased_at = session.scalar(
        select(Conversation.erased_at).where(Conversation.id == conversation_id)
    )
    return erased_at is not None


def _tombstone(conversation: Conversation, now: datetime) -> None:
    """Nothing of the conversation but its id and when it was erased. ``last_at`` is the
    erasure too, so retention deletes the tombstone after the normal period."""
    if conversation.erased_at is None:
        conversation.erased_at = now
    conversation.sender_key = ""
    conversation.municipality_code = None
    conversation.channel = None
    conversation.started_at = conversation.last_at = conversation.erased_at
    conversation.user_messages = conversation.fallbacks = conversation.low_confidence = 0
    conversation.min_confidence = None


def erase(session: Session, *, conversation_id: str) -> ErasureResult:
    """Delete the review copy of one conversation (messages, marks) and keep a tombstone so
    that events delivered later are dropped (see the module docstring). Idempotent; an unknown
    id gets a tombstone too. Handover transcripts are not touched (they are the handover's
    own copy; withdrawing consent handles them). Does not commit."""
    now = utcnow()
    # Lock order as in ``ingest``: the senders in this conversation first, then its row.
    senders = session.scalars(
        select(ConversationSender)
        .where(ConversationSender.conversation_id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for sender in senders:
        sender.pending = []  # the buttons of the assistant's last message, say
    conversation = session.get(
        Conversation, conversation_id, with_for_update=True, populate_existing=True
    )
    already = conversation is not None and conversation.erased_at is not None
    event_ids = select(ConversationEvent.id).where(
        ConversationEvent.conversation_id == conversation_id
    )
    session.execute(
        delete(ReviewMark)
        .where(
            or_(ReviewMark.conversation_id == conversation_id, ReviewMark.event_id.in_(event_ids))
        )
        .execution_options(synchronize_session=False)
    )
    deleted = session.execute(
        delete(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id)
        .execution_options(synchronize_session=False)
    )
    if conversation is None:
        try:
            with session.begin_nested():
                conversation = Conversation(
                    id=conversation_id,
                    sender_key="",
                    started_at=now,
                    last_at=now,
                    user_messages=0,
                    fallbacks=0,
                    low_confidence=0,
                    erased_at=now,
                )
                session.add(conversation)
        except IntegrityError:  # ingest stored it meanwhile: erase that one
            return erase(session, conversation_id=conversation_id)
    _tombstone(conversation, now)
    session.flush()
    return ErasureResult(
        conversation_id=conversation_id,
        events=int(getattr(deleted, "rowcount", 0) or 0),
        already=already,
    )
