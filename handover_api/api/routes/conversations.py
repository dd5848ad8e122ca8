"""/api/v1/conversations: append events (action server), read the transcript (staff)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status

from handover_api.api.deps import ServicePrincipal, SessionDep, StaffPrincipal
from handover_api.schemas import EventsAppend, EventsAppended, Transcript
from handover_api.services import audit, conversations

router = APIRouter(prefix="/conversations", tags=["conversations"])

ConversationId = Annotated[str, Path(min_length=1, max_length=200)]


@router.post("/{conversation_id}/events", response_model=EventsAppended)
def append_events(
    conversation_id: ConversationId,
    body: EventsAppend,
    session: SessionDep,
    principal: ServicePrincipal,
) -> EventsAppended:
    """Append conversation events; an ``event_id`` already stored for the conversation is
    skipped (events without one are deduplicated on sender + time + text)."""
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
    conversation_id: ConversationId,
    session: SessionDep,
    principal: StaffPrincipal,
    view: Annotated[Literal["redacted", "full"], Query()] = "redacted",
) -> Transcript:
    """The conversation for an organisation that received a handover of it; redacted unless
    ``view=full``. Every read is audited."""
    assert principal.organisation is not None
    if not conversations.organisation_has_conversation(
        session, conversation_id=conversation_id, organisation=principal.organisation
    ):
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="conversation not found")
    events = conversations.load_events(session, conversation_id=conversation_id)
    audit.record(
        session,
        actor=principal.actor,
        action="transcript.read",
        resource_type="conversation",
        resource_id=conversation_id,
        detail={"view": view},
    )
    session.commit()
    return Transcript(
        conversation_id=conversation_id,
        view=view,
        events=conversations.transcript_view(events, redacted=view == "redacted"),
    )
