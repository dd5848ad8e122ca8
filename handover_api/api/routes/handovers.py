"""/api/v1/handovers: create (action server), list/read/update/annotate (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from handover_api.api.deps import ServicePrincipal, SessionDep, StaffPrincipal
from handover_api.models import Handover
from handover_api.schemas import (
    HandoverCreate,
    HandoverDetail,
    HandoverOut,
    HandoverPage,
    HandoverUpdate,
    Level,
    NoteCreate,
    NoteOut,
    Priority,
    Status,
)
from handover_api.services import audit, conversations, handovers
from handover_api.services.errors import ServiceError
from handover_api.services.principals import Principal

router = APIRouter(prefix="/handovers", tags=["handovers"])

NOT_FOUND = "handover not found"


def _http(exc: ServiceError) -> HTTPException:
    return HTTPException(status_code=exc.status_code, detail=exc.message)


def _own(session: SessionDep, handover_id: uuid.UUID, principal: Principal) -> Handover:
    handover = handovers.get_for_organisation(
        session, handover_id=handover_id, organisation=principal.organisation
    )
    if handover is None:
        # Also for handovers of another organisation: their existence is not revealed.
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return handover


@router.post(
    "",
    response_model=HandoverOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": HandoverOut, "description": "repeated request: the existing handover"},
        409: {"description": "Idempotency-Key or reference already used with another body"},
    },
)
def create_handover(
    payload: HandoverCreate,
    session: SessionDep,
    principal: ServicePrincipal,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="Same key + same body returns the first handover (200).",
        ),
    ] = None,
) -> HandoverOut:
    """Create a warm handover from a conversation (action server only)."""
    try:
        result = handovers.create_handover(
            session, payload=payload, idempotency_key=idempotency_key, actor=principal.actor
        )
    except ServiceError as exc:
        raise _http(exc) from exc
    if not result.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"{handovers.API_PREFIX}/handovers/{result.handover.id}"
    return handovers.to_out(result.handover)


@router.get("", response_model=HandoverPage)
def list_handovers(
    session: SessionDep,
    principal: StaffPrincipal,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    priority: Priority | None = None,
    municipality: Annotated[str | None, Query(pattern=r"^GM\d{4}$")] = None,
    level: Level | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> HandoverPage:
    """Handovers addressed to the caller's organisation: urgent first, then newest first."""
    assert principal.organisation is not None
    items, total = handovers.list_handovers(
        session,
        organisation=principal.organisation,
        status=status_,
        priority=priority,
        municipality=municipality,
        level=level,
        page=page,
        page_size=page_size,
    )
    return HandoverPage(
        items=[handovers.to_out(h) for h in items], total=total, page=page, page_size=page_size
    )


@router.get("/{handover_id}", response_model=HandoverDetail)
def read_handover(
    handover_id: uuid.UUID, session: SessionDep, principal: StaffPrincipal
) -> HandoverDetail:
    """One handover with its notes and the redacted transcript (both reads are audited)."""
    handover = _own(session, handover_id, principal)
    events = conversations.load_events(session, conversation_id=handover.conversation_id)
    detail = HandoverDetail(
        **handovers.to_out(handover).model_dump(),
        notes=handovers.notes_out(handover),
        transcript=conversations.transcript_view(events, redacted=True),
    )
    audit.record_handover_read(
        session,
        actor=principal.actor,
        handover_id=str(handover.id),
        conversation_id=handover.conversation_id,
    )
    session.commit()
    return detail


@router.patch(
    "/{handover_id}",
    response_model=HandoverOut,
    responses={409: {"description": "illegal status transition"}},
)
def update_handover(
    handover_id: uuid.UUID,
    update: HandoverUpdate,
    session: SessionDep,
    principal: StaffPrincipal,
) -> HandoverOut:
    """Change the status. ``returned`` needs ``reason`` and ``destination`` and creates a new
    handover for that destination (the reverse warm handover), linked in ``returned_to``."""
    handover = _own(session, handover_id, principal)
    try:
        handover = handovers.change_status(
            session, handover=handover, update=update, principal=principal
        )
    except ServiceError as exc:
        session.rollback()
        raise _http(exc) from exc
    return handovers.to_out(handover)


@router.post("/{handover_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
def add_note(
    handover_id: uuid.UUID, body: NoteCreate, session: SessionDep, principal: StaffPrincipal
) -> NoteOut:
    """An internal note by a professional of the receiving organisation."""
    handover = _own(session, handover_id, principal)
    note = handovers.add_note(session, handover=handover, text=body.text, principal=principal)
    return NoteOut(
        id=note.id,
        created_at=note.created_at,
        author=note.author_display_name,
        author_username=note.author_username,
        text=note.text,
    )
