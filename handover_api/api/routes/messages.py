"""Messages between the professional and the resident (contract v2).

- ``POST /api/v1/handovers/{id}/messages`` (staff of the receiving organisation): send the
  resident a message through the resident's channel; 201 with the stored message and its
  delivery status (``failed`` when Twilio refused it, ``not_sent`` for the web chat or when
  sending is switched off); 409 when it cannot go (case finished, no consent, no phone number,
  WhatsApp after 24 hours without an approved template).
- ``GET /api/v1/handovers/{id}/messages``: the thread with delivery status, files and how the
  next message would go. Audited (``messages.read``).
- ``POST /api/v1/inbound-messages`` (service token: the assistant's Twilio channel): a
  resident's SMS/WhatsApp message, offered before the assistant sees it; ``matched`` says
  whether it was added to a professional's thread.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from handover_api.api.deps import (
    DirectoryDep,
    ServicePrincipal,
    SessionDep,
    SettingsDep,
    StaffPrincipal,
)
from handover_api.api.routes.handovers import OwnHandover
from handover_api.schemas import (
    InboundMessageIn,
    InboundMessageResult,
    MessageCreate,
    MessageOut,
    MessageThread,
)
from handover_api.services import audit, media, messaging
from handover_api.services.errors import ServiceError

router = APIRouter(prefix="/handovers", tags=["messages"])
inbound_router = APIRouter(tags=["messages"])

# Five files of 10 MB, base64-encoded (4/3), plus the JSON around them.
INBOUND_MAX_BODY = media.MAX_PER_MESSAGE * media.MAX_BYTES * 4 // 3 + 1024 * 1024


@router.post(
    "/{handover_id}/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {
            "description": "the message cannot go: case returned or closed, consent does not "
            "cover the organisation, no phone number, or WhatsApp after 24 hours without an "
            "approved template"
        }
    },
)
def send_message(
    handover: OwnHandover,
    body: MessageCreate,
    session: SessionDep,
    principal: StaffPrincipal,
    settings: SettingsDep,
    directory: DirectoryDep,
) -> MessageOut:
    """Send the resident a message through the resident's channel (audited: ids only)."""
    try:
        message = messaging.send_message(
            session,
            handover=handover,
            text=body.text,
            principal=principal,
            settings=settings,
            directory=directory,
        )
    except ServiceError as exc:
        session.rollback()
        raise HTTPException(status_code=exc.status_code, detail=exc.message) from exc
    return messaging.to_out(session, message)


@router.get("/{handover_id}/messages", response_model=MessageThread)
def list_messages(
    handover: OwnHandover,
    session: SessionDep,
    principal: StaffPrincipal,
    settings: SettingsDep,
    directory: DirectoryDep,
) -> MessageThread:
    """The thread, oldest first, with delivery status and the resident's files (metadata; the
    files themselves on the case page). Bodies are empty while consent does not cover the
    organisation."""
    items = messaging.thread(session, handover=handover)
    plan = messaging.plan_for(session, handover=handover, settings=settings, directory=directory)
    audit.record_messages_read(
        session, actor=principal.actor, handover_id=str(handover.id), count=len(items)
    )
    session.commit()
    return MessageThread(
        handover_id=handover.id,
        channel=handover.channel,
        consent_covers=handover.consent_covers_destination,
        items=items,
        next_message=plan.out(),
    )


@inbound_router.post(
    "/inbound-messages",
    response_model=InboundMessageResult,
    max_body_size=INBOUND_MAX_BODY,
)
def inbound_message(
    payload: InboundMessageIn,
    session: SessionDep,
    principal: ServicePrincipal,
    directory: DirectoryDep,
) -> InboundMessageResult:
    """A resident's message relayed by the assistant's Twilio channel. Matched to the open
    case whose professional wrote to this number on this channel in the last 14 days (the
    most recent thread): stored there, appended to the case's transcript, files kept (JPEG,
    PNG, HEIC, PDF; at most 5 of 10 MB). Not matched: nothing is stored. The same
    ``message_sid`` again gives the same answer and stores nothing twice."""
    return messaging.receive(session, payload=payload, directory=directory, actor=principal.actor)
