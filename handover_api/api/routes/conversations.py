"""/api/v1/conversations: append events (action server); read what the caller's own
handovers of a conversation cover (staff)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, status

from handover_api.api.deps import ServicePrincipal, SessionDep, StaffPrincipal, refuse
from handover_api.schemas import EventOut, EventsAppend, EventsAppended, Transcript
from handover_api.services import audit, conversations, handovers

router = APIRouter(prefix="/conversations", tags=["conversations"])

# No control characters: PostgreSQL text cannot hold NUL, and no conversation id needs them.
ConversationId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


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
    reads them through a handover."""
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
