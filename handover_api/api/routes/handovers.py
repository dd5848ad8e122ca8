"""/api/v1/handovers: create and consent withdrawal (action server); list, read, transcript,
application export, events (the timeline), update, notes, assignment and call attempts (staff
of the receiving organisation). Every read is audited, lists too."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    status,
)

from handover_api.api.deps import (
    CatalogueDep,
    DirectoryDep,
    ServicePrincipal,
    SessionDep,
    StaffPrincipal,
    refuse,
)
from handover_api.contract import LIFE_DOMAIN_CODES
from handover_api.models import Handover
from handover_api.schemas import (
    ApplicationExport,
    AssignmentIn,
    CallAttemptCreate,
    CallAttemptOut,
    ForwardIn,
    HandoverCreate,
    HandoverDetail,
    HandoverEventOut,
    HandoverOut,
    HandoverPage,
    HandoverUpdate,
    Level,
    NoteCreate,
    NoteOut,
    Priority,
    Status,
    Transcript,
)
from handover_api.services import (
    application_export,
    audit,
    call_attempts,
    events,
    handovers,
    notifications,
)
from handover_api.services.errors import ServiceError

router = APIRouter(prefix="/handovers", tags=["handovers"])

NOT_FOUND = "handover not found"
LifeDomainCode = Literal[LIFE_DOMAIN_CODES]  # type: ignore[valid-type]
NO_APPLICATION = "this handover holds no application"


def _http(exc: ServiceError) -> HTTPException:
    return HTTPException(status_code=exc.status_code, detail=exc.message)


def _own(
    request: Request, handover_id: uuid.UUID, session: SessionDep, principal: StaffPrincipal
) -> Handover:
    """The handover when it is addressed to the caller's organisation; 404 otherwise (the
    existence of another organisation's handover is not revealed, but the attempt is audited).
    Writes lock the row."""
    handover = handovers.get_for_organisation(
        session,
        handover_id=handover_id,
        organisation=principal.organisation,
        for_update=request.method != "GET",
    )
    if handover is None:
        raise refuse(
            session,
            request,
            actor=principal.actor,
            status_code=status.HTTP_404_NOT_FOUND,
            detail=NOT_FOUND,
        )
    return handover


OwnHandover = Annotated[Handover, Depends(_own)]


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
    request: Request,
    background: BackgroundTasks,
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
    out = handovers.to_out(result.handover)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    else:  # tell the team at once; the worker retries what fails
        notifications.announce_soon(request, background, session, result.handover.id)
    response.headers["Location"] = f"{handovers.API_PREFIX}/handovers/{result.handover.id}"
    return out


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
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="a reference (whole or its start, with or without VD-, any case) or a "
            "phone number (compared on its last nine digits)",
        ),
    ] = None,
    team: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")] = None,
    domain: Annotated[LifeDomainCode | None, Query(description="a life domain code")] = None,
    assigned: Annotated[
        Literal["me", "none"] | None,
        Query(description="me: cases assigned to the caller; none: cases nobody has"),
    ] = None,
    sort: Annotated[
        Literal["newest", "waiting"],
        Query(
            description="newest: urgent first, newest first (default); waiting: open cases "
            "first, urgent first, longest waiting first"
        ),
    ] = "newest",
) -> HandoverPage:
    """Handovers addressed to the caller's organisation: urgent first, then newest first.
    The list itself is audited (which handovers were shown to whom; of ``q`` only whether it
    searched a reference or a phone number, never the number)."""
    assert principal.organisation is not None
    items, total = handovers.list_handovers(
        session,
        filters=handovers.HandoverFilter(
            organisation=principal.organisation,
            status=status_,
            priority=priority,
            municipality=municipality,
            level=level,
            team=team,
            domain=domain,
            q=q,
            assigned_username=principal.username if assigned == "me" else None,
            unassigned=assigned == "none",
        ),
        order=sort,
        page=page,
        page_size=page_size,
    )
    audit.record_list(
        session,
        actor=principal.actor,
        organisation=principal.organisation,
        filters={
            "status": status_,
            "priority": priority,
            "municipality": municipality,
            "level": level,
            "team": team,
            "domain": domain,
            "search": handovers.search_kind(q),
            "assigned": assigned,
            "page": page,
        },
        handover_ids=[str(h.id) for h in items],
    )
    session.commit()
    return HandoverPage(
        items=[handovers.to_out(h) for h in items], total=total, page=page, page_size=page_size
    )


@router.get("/{handover_id}", response_model=HandoverDetail)
def read_handover(
    handover: OwnHandover, session: SessionDep, principal: StaffPrincipal
) -> HandoverDetail:
    """One handover with its notes and the redacted transcript (both reads are audited)."""
    detail = HandoverDetail(
        **handovers.to_out(handover).model_dump(),
        notes=handovers.notes_out(handover),
        transcript=handovers.transcript_of(session, handover=handover, redacted=True),
        call_attempts=call_attempts.attempts_out(handover),
    )
    audit.record_handover_read(session, actor=principal.actor, handover_id=str(handover.id))
    session.commit()
    return detail


@router.get("/{handover_id}/transcript", response_model=Transcript)
def read_transcript(
    handover: OwnHandover,
    session: SessionDep,
    principal: StaffPrincipal,
    view: Annotated[Literal["redacted", "full"], Query()] = "redacted",
) -> Transcript:
    """Exactly the messages this handover's consent covers: redacted unless ``view=full``;
    empty (``consent_covers: false``) for a returned case without consent or after the
    resident withdrew it. Every read is audited."""
    events = handovers.transcript_of(session, handover=handover, redacted=view == "redacted")
    audit.record_transcript_read(
        session, actor=principal.actor, handover_id=str(handover.id), view=view
    )
    session.commit()
    return Transcript(
        conversation_id=handover.conversation_id,
        view=view,
        events=events,
        consent_covers=handover.consent_covers_destination,
    )


@router.get("/{handover_id}/events", response_model=list[HandoverEventOut])
def read_events(
    handover: OwnHandover, session: SessionDep, principal: StaffPrincipal
) -> list[HandoverEventOut]:
    """The handover's named outcome events, oldest first, with who and when (contract v2):
    ``consent_given``, ``created``, ``claimed``, ``contact_made``, ``contact_failed``,
    ``returned``, ``consent_withdrawn``, ``closed``, ... ``detail`` holds non-personal facts
    only. Same visibility as the handover itself (404 for another organisation's); audited
    (``events.read``)."""
    timeline = events.timeline(session, handover=handover)
    audit.record(
        session,
        actor=principal.actor,
        action="events.read",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={"handover_id": str(handover.id), "count": len(timeline)},
    )
    session.commit()
    return timeline


@router.get(
    "/{handover_id}/application/export",
    response_model=ApplicationExport,
    responses={
        403: {"description": "consent does not cover the caller's organisation (withheld)"},
        404: {"description": "no such handover for the caller, or it holds no application"},
    },
)
def export_application(
    request: Request,
    handover: OwnHandover,
    session: SessionDep,
    principal: StaffPrincipal,
    directory: DirectoryDep,
    catalogue: CatalogueDep,
) -> ApplicationExport:
    """The pre-filled application, for the organisation to continue it behind DigiD: where the
    municipality has an Objects API, the ProductAanvraag object Open Formulieren would register
    (``bsn`` empty) and the "verder met DigiD" link; otherwise a JSON envelope with the values,
    their JSON Schema and metadata. Nothing is registered or sent: this is what would be.
    Read like the handover itself (same organisation, audited); while consent does not cover
    the organisation it is refused with the detail's withheld message."""
    if not handover.consent_covers_destination:
        raise refuse(
            session,
            request,
            actor=principal.actor,
            status_code=status.HTTP_403_FORBIDDEN,
            detail=handovers.WITHHELD_SUMMARY,
        )
    if handover.application is None:
        raise refuse(
            session,
            request,
            actor=principal.actor,
            status_code=status.HTTP_404_NOT_FOUND,
            detail=NO_APPLICATION,
        )
    result = application_export.export(handover, directory=directory, catalogue=catalogue)
    audit.record_application_export(
        session, actor=principal.actor, handover_id=str(handover.id), export_format=result.format
    )
    session.commit()
    return result


@router.patch(
    "/{handover_id}",
    response_model=HandoverOut,
    responses={409: {"description": "illegal status transition"}},
)
def update_handover(
    handover: OwnHandover,
    update: HandoverUpdate,
    session: SessionDep,
    principal: StaffPrincipal,
    directory: DirectoryDep,
) -> HandoverOut:
    """Change the status. ``returned`` needs ``reason`` and a ``destination`` from the
    municipality's other level and creates a new handover there (the reverse warm handover),
    linked in ``returned_to``; its data is visible there only with ``consent_for_destination``."""
    try:
        handover = handovers.change_status(
            session, handover=handover, update=update, principal=principal, directory=directory
        )
    except ServiceError as exc:
        session.rollback()
        raise _http(exc) from exc
    return handovers.to_out(handover)


@router.post("/{handover_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
def add_note(
    handover: OwnHandover, body: NoteCreate, session: SessionDep, principal: StaffPrincipal
) -> NoteOut:
    """An internal note by a professional of the receiving organisation."""
    note = handovers.add_note(session, handover=handover, text=body.text, principal=principal)
    return NoteOut(
        id=note.id,
        created_at=note.created_at,
        author=note.author_display_name,
        author_username=note.author_username,
        text=note.text,
    )


@router.post(
    "/{handover_id}/assign",
    response_model=HandoverOut,
    responses={
        404: {
            "description": "no such handover, or no such active case worker in your organisation"
        },
        409: {"description": "the handover is returned or closed"},
    },
)
def assign_handover(
    handover: OwnHandover, body: AssignmentIn, session: SessionDep, principal: StaffPrincipal
) -> HandoverOut:
    """Give the case to a case worker (role staff, active) of the caller's organisation; a
    new case becomes claimed. Anyone else (another organisation's user, an auditor, a
    deactivated user) is 422. Audited as ``handover.assign``."""
    try:
        handover = handovers.assign(
            session, handover=handover, username=body.username, principal=principal
        )
    except ServiceError as exc:
        session.rollback()
        raise _http(exc) from exc
    return handovers.to_out(handover)


@router.post(
    "/{handover_id}/forward",
    response_model=HandoverOut,
    responses={
        409: {"description": "the handover is returned or closed, or already with that team"},
        422: {"description": "the organisation has no such team"},
    },
)
def forward_handover(
    handover: OwnHandover,
    body: ForwardIn,
    session: SessionDep,
    principal: StaffPrincipal,
    directory: DirectoryDep,
    request: Request,
    background: BackgroundTasks,
) -> HandoverOut:
    """Forward the case to another team of the caller's organisation: it becomes new and
    unassigned there, that team's claim time starts and it is told as for a new handover
    (``forwarded`` event; audited as ``handover.forward``). Another organisation is a return
    (``PATCH`` with status ``returned``)."""
    try:
        handover = handovers.forward(
            session, handover=handover, team=body.team, principal=principal, directory=directory
        )
    except ServiceError as exc:
        session.rollback()
        raise _http(exc) from exc
    out = handovers.to_out(handover)
    notifications.announce_soon(request, background, session, handover.id)
    return out


@router.post(
    "/{handover_id}/call-attempts",
    response_model=CallAttemptOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "the handover is returned or closed"}},
)
def add_call_attempt(
    handover: OwnHandover, body: CallAttemptCreate, session: SessionDep, principal: StaffPrincipal
) -> CallAttemptOut:
    """Record an attempt to reach the resident: ``bereikt``, ``niet_bereikt`` or
    ``terugbellen`` (with ``callback_at``), signed with the caller's name. The first
    ``bereikt`` sets ``first_contact_at``."""
    try:
        attempt = call_attempts.record_attempt(
            session,
            handover=handover,
            outcome=body.outcome,
            callback_at=body.callback_at,
            note=body.note,
            principal=principal,
        )
    except ServiceError as exc:
        session.rollback()
        raise _http(exc) from exc
    return call_attempts.to_out(attempt)


@router.post("/{handover_id}/consent-withdrawal", response_model=HandoverOut)
def withdraw_consent(
    handover_id: uuid.UUID, session: SessionDep, principal: ServicePrincipal
) -> HandoverOut:
    """The resident withdrew consent in the conversation (action server only). From then on
    the receiving organisation sees the handover's metadata and the withdrawal, not the
    transcript, summary, contact or application. Repeating it changes nothing."""
    handover = handovers.get_by_id(session, handover_id=handover_id)
    if handover is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    handovers.withdraw_consent(session, handover=handover, actor=principal.actor)
    return handovers.to_out(handover)
