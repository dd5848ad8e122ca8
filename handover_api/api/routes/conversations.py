"""/api/v1/conversations: append events (action server); take Rasa's event stream for review
(event broker); erase a conversation's review copy (action server, the resident's "verwijder
mijn gegevens"); read what the caller's own handovers of a conversation cover (staff)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from handover_api.api.deps import ServicePrincipal, SessionDep, StaffPrincipal, refuse
from handover_api.schemas import EventOut, EventsAppend, EventsAppended, Transcript
from handover_api.services import audit, conversation_log, conversations, handovers

router = APIRouter(prefix="/conversations", tags=["conversations"])

# No control characters: PostgreSQL text cannot hold NUL, and no conversation id needs them.
ConversationId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]

# Events per request; the broker sends at most 100 (bot/review_broker.py).
MAX_RASA_EVENTS = 500


class RasaEvent(BaseModel):
    """One event as Rasa's event brokers publish it. Only ``event`` and ``timestamp`` are
    checked here; the rest (text, parse_data, name/value, data, ...) is read defensively by
    ``services/conversation_log.py``, which ignores what it does not need."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    event: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z_]+$")]
    timestamp: float | None = None


class RasaEventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # HMAC-SHA256 of the sender id (hex): the sender id itself, a phone number for SMS and
    # WhatsApp, is never sent here.
    sender_key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    # The sender id starts with "whatsapp:" (Twilio's channel is then WhatsApp, not SMS).
    whatsapp: StrictBool = False
    events: Annotated[list[RasaEvent], Field(min_length=1, max_length=MAX_RASA_EVENTS)]


class RasaEventsIngested(BaseModel):
    received: int
    stored: int
    pending: int


@router.post("/rasa-events", response_model=RasaEventsIngested)
def ingest_rasa_events(
    body: RasaEventsIn, session: SessionDep, principal: ServicePrincipal
) -> RasaEventsIngested:
    """Rasa's conversation events of one sender, in order (the local profile's event broker,
    ``bot/review_broker.py``): stored as review data per conversation, BSNs stripped. A
    replayed batch stores nothing twice. ``stored``: new messages; ``pending``: events of the
    sender still waiting for the session's conversation reference."""
    events: list[dict[str, Any]] = [e.model_dump() for e in body.events]
    result = conversation_log.ingest(
        session, sender_key=body.sender_key, events=events, whatsapp=body.whatsapp
    )
    session.commit()
    return RasaEventsIngested(
        received=result.received, stored=result.stored, pending=result.pending
    )


@router.post("/{conversation_id}/events", response_model=EventsAppended)
def append_events(
    conversation_id: ConversationId,
    body: EventsAppend,
    session: SessionDep,
    principal: ServicePrincipal,
) -> EventsAppended:
    """Append conversation events; an ``event_id`` already stored for the conversation is
    skipped (events without one are deduplicated on sender + time + text). These events are
    the conversation log (kept for ``VOORDEUR_CONVERSATION_RETENTION_DAYS``); no organisation
    reads them through a handover. Nothing is stored for an erased conversation (all
    events count as ``duplicates`` then)."""
    if conversation_log.is_erased(session, conversation_id):
        return EventsAppended(
            conversation_id=conversation_id,
            received=len(body.events),
            created=0,
            duplicates=len(body.events),
        )
    result = conversations.append_events(
        session, conversation_id=conversation_id, events=body.events
    )
    session.commit()
    return EventsAppended(
        conversation_id=conversation_id,
        received=result.received,
        created=result.created,
        duplicates=result.duplicates,
    )


@router.delete(
    "/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def erase_conversation(
    conversation_id: ConversationId, session: SessionDep, principal: ServicePrincipal
) -> Response:
    """Erase the review copy of a conversation at the resident's request (AVG art. 17): its
    messages and review marks are deleted; a tombstone makes events that arrive later (the
    confirming turn itself is published after this call) be dropped. 204 also when the
    conversation is unknown or erased before. Handover transcripts are not touched: withdrawing
    consent (``POST /api/v1/handovers/{id}/consent-withdrawal``) handles those. Audited."""
    result = conversation_log.erase(session, conversation_id=conversation_id)
    audit.record_conversation_erasure(
        session, actor=principal.actor, conversation_id=conversation_id, already=result.already
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{conversation_id}/transcript", response_model=Transcript)
def read_transcript(
    request: Request,
    conversation_id: ConversationId,
    session: SessionDep,
    principal: StaffPrincipal,
    view: Annotated[Literal["redacted", "full"], Query()] = "redacted",
) -> Transcript:
    """The messages that the caller's own handovers of this conversation cover (consent given
    to the caller's organisation and not withdrawn); 404 when there are none. Prefer
    ``GET /api/v1/handovers/{id}/transcript``. Every read is audited per handover."""
    assert principal.organisation is not None
    own = handovers.visible_for_conversation(
        session, conversation_id=conversation_id, organisation=principal.organisation
    )
    if not own:
        raise refuse(
            session,
            request,
            actor=principal.actor,
            status_code=status.HTTP_404_NOT_FOUND,
            detail="conversation not found",
        )
    events: dict[str, EventOut] = {}
    for handover in own:
        for event in handovers.transcript_of(
            session, handover=handover, redacted=view == "redacted"
        ):
            events.setdefault(event.event_id, event)
        audit.record_transcript_read(
            session,
            actor=principal.actor,
            handover_id=str(handover.id),
            view=view,
            via="conversation",
        )
    session.commit()
    return Transcript(
        conversation_id=conversation_id,
        view=view,
        events=sorted(events.values(), key=lambda e: e.at),
    )
