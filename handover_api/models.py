"""Database tables (SQLAlchemy 2.0 typed mappings).

Handover rows keep the contract's nested objects (municipality, destination) as flat columns so
they can be filtered and indexed; the open-ended parts (life domains, crisis, application,
contact) are JSON.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATUSES = ("new", "claimed", "in_progress", "returned", "closed")
OPEN_STATUSES = ("new", "claimed", "in_progress")
FINISHED_STATUSES = ("returned", "closed")
PRIORITIES = ("normal", "urgent")
CHANNELS = ("web", "sms", "whatsapp", "rest", "shell")
LEVELS = ("regional", "local")
SENDERS = ("user", "bot")
ROLES = ("staff", "reviewer", "auditor")
CALL_OUTCOMES = ("bereikt", "niet_bereikt", "terugbellen")
MESSAGE_DIRECTIONS = ("out", "in")
MESSAGE_CHANNELS = ("sms", "whatsapp", "web")
MESSAGE_STATUSES = (
    "queued",
    "sent",
    "delivered",
    "read",
    "undelivered",
    "failed",
    "received",
    "not_sent",
)
# Named outcome events of a handover's timeline (``GET /api/v1/handovers/{id}/events``).
EVENT_KINDS = (
    "consent_given",
    "created",
    "team_notified",
    "claimed",
    "released",
    "in_progress",
    "assigned",
    "contact_attempted",
    "contact_made",
    "contact_failed",
    "message_sent",
    "message_received",
    "forwarded",
    "returned",
    "escalated",
    "consent_withdrawn",
    "closed",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Handover(Base):
    __tablename__ = "handovers"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("destination_level", LEVELS), name="destination_level"),
        Index("ix_handovers_inbox", "destination_organisation", "status", "created_at"),
        # Every column the lists filter on by default and sort by, plus the key: a page of an
        # organisation's 100,000 handovers is sorted from this index alone, and only the
        # page's rows are read (services/pagination.page_of with `key`).
        Index(
            "ix_handovers_list",
            "destination_organisation",
            "status",
            "priority",
            "created_at",
            "reference",
            "id",
        ),
        # The escalation runner's query: new, unclaimed, not escalated, due.
        Index("ix_handovers_claim_due", "status", "escalated_at", "claim_due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the handover left the receiving inbox (status closed or returned); drives retention.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    municipality_code: Mapped[str] = mapped_column(String(6))
    municipality_name: Mapped[str] = mapped_column(String(100))
    destination_level: Mapped[str] = mapped_column(String(16))
    destination_organisation: Mapped[str] = mapped_column(String(100))
    destination_team: Mapped[str] = mapped_column(String(100))
    destination_reason: Mapped[str | None] = mapped_column(Text, default=None)

    life_domains: Mapped[list[Any]] = mapped_column(default=list)
    multi_problem: Mapped[bool] = mapped_column(Boolean, default=False)
    crisis: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    summary: Mapped[str] = mapped_column(Text)
    application: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    contact: Mapped[dict[str, Any]] = mapped_column(default=dict)

    consent_given: Mapped[bool] = mapped_column(Boolean)
    consent_at: Mapped[datetime]
    consent_text_version: Mapped[str] = mapped_column(String(50))
    # The organisation the resident agreed to share with. A returned case addressed to another
    # organisation only shows its data when this names that organisation (see services).
    consent_organisation: Mapped[str] = mapped_column(String(100))
    # Who recorded the consent: the assistant, or the professional who asked the resident.
    consent_recorded_by: Mapped[str] = mapped_column(String(200), default="service:action-server")
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)

    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(16))

    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    return_reason: Mapped[str | None] = mapped_column(Text, default=None)

    # The case worker who has the case (set by claiming, changed by reassigning in the team).
    assigned_username: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    assigned_name: Mapped[str | None] = mapped_column(String(200), default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    # Service-level moments for the dashboard: first claim, first time the resident was reached.
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    first_contact_at: Mapped[datetime | None] = mapped_column(default=None)
    # Search and filter columns derived from the JSON on write: the phone number's last nine
    # digits (so 06..., +316... and 00316... all match) and ",code,code," of the life domains.
    search_phone: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    domain_codes: Mapped[str] = mapped_column(String(400), default="")
    # Claim before this moment or it is escalated: the team's claim time (working hours in
    # its opening hours, Dutch public holidays and closing days) from creation; None: never.
    claim_due_at: Mapped[datetime | None] = mapped_column(default=None)
    # When it was escalated for not being claimed in time (``services/escalation.py``).
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)

    returned_from_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="SET NULL"), default=None, index=True
    )

    # join_depth: SQLAlchemy applies no eager loading to a self-referential relationship
    # without it, so every handover of a list cost one more query.
    returned_from: Mapped[Handover | None] = relationship(
        remote_side=[id], back_populates="returned_to", lazy="selectin", join_depth=1
    )
    returned_to: Mapped[list[Handover]] = relationship(
        back_populates="returned_from", lazy="selectin", passive_deletes=True, join_depth=1
    )
    notes: Mapped[list[HandoverNote]] = relationship(
        back_populates="handover",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="HandoverNote.created_at",
    )
    transcript: Mapped[list[TranscriptEvent]] = relationship(
        back_populates="handover",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TranscriptEvent.id",
    )
    call_attempts: Mapped[list[CallAttempt]] = relationship(
        back_populates="handover",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CallAttempt.at",
    )

    @property
    def consent_covers_destination(self) -> bool:
        """The receiving organisation may see the data: consent names it and still holds."""
        return (
            self.consent_given
            and self.consent_withdrawn_at is None
            and self.consent_organisation == self.destination_organisation
        )


class HandoverNote(Base):
    __tablename__ = "handover_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_username: Mapped[str] = mapped_column(String(100))
    author_display_name: Mapped[str] = mapped_column(String(200))
    author_organisation: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)

    handover: Mapped[Handover] = relationship(back_populates="notes")


class CallAttempt(Base):
    """One attempt to reach the resident and its outcome, signed by the case worker."""

    __tablename__ = "call_attempts"
    __table_args__ = (CheckConstraint(_in("outcome", CALL_OUTCOMES), name="outcome"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    author_username: Mapped[str] = mapped_column(String(100))
    author_display_name: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    # "terugbellen": the moment agreed with the resident.
    callback_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)

    handover: Mapped[Handover] = relationship(back_populates="call_attempts")


class TranscriptEvent(Base):
    """One message of the conversation as it was shared with one handover's consent.

    A transcript belongs to a handover, not to a conversation id: two handovers of the same
    resident to two organisations each hold only what was shared with that organisation.
    Texts are stored with BSNs stripped; the redacted view is made when it is read.
    """

    __tablename__ = "transcript_events"
    __table_args__ = (
        UniqueConstraint("handover_id", "event_id", name="uq_transcript_events_event"),
        CheckConstraint(_in("sender", SENDERS), name="sender"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    intent: Mapped[str | None] = mapped_column(String(100), default=None)

    handover: Mapped[Handover] = relationship(back_populates="transcript")


class ConversationEvent(Base):
    __tablename__ = "conversation_events"
    __table_args__ = (
        UniqueConstraint("conversation_id", "event_id", name="uq_conversation_events_event"),
        CheckConstraint(_in("sender", SENDERS), name="sender"),
        Index("ix_conversation_events_conversation_at", "conversation_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    # Client id of the event; derived from a hash of (sender, at, text) when the client sent none.
    event_id: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]
    intent: Mapped[str | None] = mapped_column(String(100), default=None)
    # Server time of arrival: retention counts from here, never from the client's ``at``.
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # For review: the classifier's confidence in ``intent`` and whether the assistant answered
    # this message with its fallback ("Sorry, dat begreep ik niet").
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)


class Conversation(Base):
    """One conversation session as the front office reviews it, with or without a handover.

    Filled from Rasa's events (``services/conversation_log.py``). The id is the session's
    opaque ``c-...`` reference; ``sender_key`` is an HMAC of the channel's sender id, so the
    phone number itself is never stored. Kept ``VOORDEUR_CONVERSATION_RETENTION_DAYS`` after
    its last message unless a handover holds it.

    Erased (the resident asked "verwijder mijn gegevens", ``DELETE /api/v1/conversations/{id}``):
    the messages are gone and the row is a tombstone, ``erased_at`` set, counters zeroed,
    ``sender_key`` empty and no municipality or channel. It only makes ``ingest`` drop events
    that Rasa delivers for the conversation after the erasure; nobody reads it.
    """

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_municipality_last", "municipality_code", "last_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(64), index=True)
    municipality_code: Mapped[str | None] = mapped_column(String(6), default=None)
    channel: Mapped[str | None] = mapped_column(String(16), default=None)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_messages: Mapped[int] = mapped_column(Integer, default=0)
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    low_confidence: Mapped[int] = mapped_column(Integer, default=0)
    min_confidence: Mapped[float | None] = mapped_column(Float, default=None)
    erased_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the resident's web chat last asked for a professional's messages
    # (``GET /api/v1/webchat/messages``): the chat counts as open for 10 minutes after it.
    webchat_seen_at: Mapped[datetime | None] = mapped_column(default=None)


class ConversationSender(Base):
    """Which conversation a sender is in now, and events that arrived before its reference.

    Rasa sends events per sender id; the session's reference (a slot) arrives with the first
    action of the session, just after the greeting. Events that come before it wait here.
    """

    __tablename__ = "conversation_senders"

    sender_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(String(200), default=None)
    pending: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class ReviewMark(Base):
    """A reviewer's verdict on one resident message: misunderstood, and the intent it meant."""

    __tablename__ = "review_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("conversation_events.id", ondelete="CASCADE"), unique=True
    )
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    correct_intent: Mapped[str] = mapped_column(String(100))
    reviewer_username: Mapped[str] = mapped_column(String(100))
    reviewer_display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[ConversationEvent] = relationship(lazy="joined")


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(100), index=True)
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    # "staff" reads and works the organisation's handovers; "auditor" reads only the audit log.
    role: Mapped[str] = mapped_column(String(16), default="staff")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Personal tokens end (VOORDEUR_TOKEN_DAYS); ``authenticate`` refuses them afterwards.
    expires_at: Mapped[datetime]

    user: Mapped[StaffUser] = relationship(back_populates="tokens", lazy="joined")


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_resource", "resource_type", "resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[str] = mapped_column(String(200))
    # Only ids and non-personal facts (view, status change); never citizen data.
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class StaffSession(Base):
    """A login on the staff pages. The browser's cookie holds a random id; only its SHA-256
    hash is stored, so a copy of this table cannot be replayed as cookies.

    A session ends on logout (row deleted), after ``VOORDEUR_SESSION_IDLE_MINUTES`` without a
    request (``last_seen_at``), at ``expires_at`` (login + ``VOORDEUR_SESSION_MAX_HOURS``), and
    with the token it was opened with (revoked or expired token: ``token_id``).
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[StaffUser] = relationship(lazy="joined")
    token: Mapped[ApiToken] = relationship(lazy="joined")


class HandoverMessage(Base):
    """A message between the professional and the resident, through the resident's channel.

    ``out``: written by a professional (``author_*``) and sent with Twilio (SMS/WhatsApp), or
    kept as ``not_sent`` with ``status_reason`` (web chat, sending switched off). ``in``: the
    resident's answer, relayed by the assistant's Twilio channel (``received``). The body is
    stored with BSNs stripped, like the transcript. ``status`` only moves forward (Twilio's
    status callbacks, ``services/messaging.py``).
    """

    __tablename__ = "handover_messages"
    __table_args__ = (
        CheckConstraint(_in("direction", MESSAGE_DIRECTIONS), name="direction"),
        CheckConstraint(_in("channel", MESSAGE_CHANNELS), name="channel"),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
        Index("ix_handover_messages_handover_created", "handover_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE")
    )
    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    author_username: Mapped[str | None] = mapped_column(String(100), default=None)
    author_display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Twilio's MessageSid (outbound: from its answer; inbound: the relayed message's).
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16))
    status_at: Mapped[datetime | None] = mapped_column(default=None)
    # Why a message was not sent or failed, as a code ("webchat", "sending_off", ...).
    status_reason: Mapped[str | None] = mapped_column(String(50), default=None)
    error_code: Mapped[str | None] = mapped_column(String(20), default=None)
    # WhatsApp outside the 24-hour window: the approved template (ContentSid) went instead.
    via_template: Mapped[bool] = mapped_column(Boolean, default=False)
    content_sid: Mapped[str | None] = mapped_column(String(64), default=None)


class HandoverMedia(Base):
    """A photo or document the resident sent in a message thread (allowed types only)."""

    __tablename__ = "handover_media"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("handover_messages.id", ondelete="SET NULL"), default=None, index=True
    )
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255), default=None)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    twilio_message_sid: Mapped[str | None] = mapped_column(String(64), default=None, index=True)


class HandoverEvent(Base):
    """One named thing that happened to a handover, with who and when (its timeline).

    ``actor`` as in the audit log ("service:action-server", "staff:<username>", "system");
    ``actor_name`` the display name when known. ``detail`` holds non-personal facts only
    (an outcome, an organisation id, a moment), never the resident's data or free text.
    Recorded by ``services/events.py``; goes with its handover (``ON DELETE CASCADE``).
    """

    __tablename__ = "handover_events"
    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        Index("ix_handover_events_handover_at", "handover_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str | None] = mapped_column(String(200), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)


EXPORT_STATUSES = ("pending", "done", "failed")


class HandoverExport(Base):
    """The outbox of one handover's export to one external system (``handover_api/export``).

    A row is made when a handover is created for an organisation whose region configuration
    names an exporter (``services/exports.enqueue``); ``cli export-due`` delivers the due rows
    with exponential backoff. ``remote_ids`` holds the ids of what was created remotely, saved
    after each created resource, so a retry continues where the previous attempt stopped.
    ``last_error`` is an HTTP status, a path and field names only: never personal data.
    """

    __tablename__ = "handover_exports"
    __table_args__ = (
        UniqueConstraint("handover_id", "exporter", name="uq_handover_exports_handover_exporter"),
        CheckConstraint(_in("status", EXPORT_STATUSES), name="status"),
        Index("ix_handover_exports_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    exporter: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    remote_ids: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


NOTIFICATION_KINDS = ("new", "escalation")
NOTIFICATION_CHANNELS = ("email", "webhook")


class HandoverNotification(Base):
    """The outbox of one announcement of a handover to its team (``services/notifications``).

    ``kind`` ``new`` (made with the handover) or ``escalation`` (made when it was not claimed in
    time); one row per handover and kind (unique), so a retried or concurrent run never
    announces twice. ``channel`` and ``destination`` are what the team's ``notify:`` block
    said when the row was made (addresses or a URL of the team: not the resident's data).
    Delivered at once after the handover is stored, else by ``cli worker`` with backoff.
    """

    __tablename__ = "handover_notifications"
    __table_args__ = (
        UniqueConstraint("handover_id", "kind", name="uq_handover_notifications_handover_kind"),
        CheckConstraint(_in("status", EXPORT_STATUSES), name="status"),
        CheckConstraint(_in("kind", NOTIFICATION_KINDS), name="kind"),
        CheckConstraint(_in("channel", NOTIFICATION_CHANNELS), name="channel"),
        Index("ix_handover_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    handover_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[list[Any]] = mapped_column(default=list)
    secret_env: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
