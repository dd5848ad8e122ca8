"""Business rules of handovers: create (idempotent), list, read, status transitions, notes.

Status transitions (anything else is refused with 409):

    new         -> claimed | in_progress | returned
    claimed     -> new (release) | in_progress | closed | returned
    in_progress -> closed | returned
    returned, closed: final

``returned`` is the reverse warm handover: it needs a reason and a destination in another
organisation; the handover is marked returned and a NEW handover with the same data (status
new, ``returned_from`` = the old one, destination = the given one with the reason) lands in the
other organisation's inbox, so the citizen is not asked anything twice. Internal notes stay
with the organisation that wrote them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handover_api.contract import REFERENCE_DIGITS, REFERENCE_LETTERS
from handover_api.models import FINISHED_STATUSES, Handover, HandoverNote, utcnow
from handover_api.schemas import (
    ApplicationOut,
    ConsentOut,
    ContactOut,
    CrisisOut,
    DestinationIn,
    DestinationOut,
    HandoverCreate,
    HandoverLinks,
    HandoverOut,
    HandoverRef,
    HandoverUpdate,
    LifeDomainOut,
    MunicipalityOut,
    NoteOut,
)
from handover_api.services import audit
from handover_api.services.conversations import append_events
from handover_api.services.errors import ConflictError, InvalidRequestError
from handover_api.services.principals import Principal
from handover_api.services.redaction import redact, redact_for_log

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"claimed", "in_progress", "returned"}),
    "claimed": frozenset({"new", "in_progress", "closed", "returned"}),
    "in_progress": frozenset({"closed", "returned"}),
    "returned": frozenset(),
    "closed": frozenset(),
}


# --- shaping ---------------------------------------------------------------------------------


def generate_reference() -> str:
    letters = "".join(secrets.choice(REFERENCE_LETTERS) for _ in range(4))
    digits = "".join(secrets.choice(REFERENCE_DIGITS) for _ in range(2))
    return f"VD-{letters}-{digits}"


def request_hash(payload: HandoverCreate) -> str:
    """SHA-256 of the canonical JSON of the validated request body."""
    canonical = json.dumps(
        payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def links_for(handover: Handover) -> HandoverLinks:
    conversation = quote(handover.conversation_id, safe="")
    return HandoverLinks(
        self=f"{API_PREFIX}/handovers/{handover.id}",
        transcript=f"{API_PREFIX}/conversations/{conversation}/transcript",
    )


def _destination(handover: Handover) -> DestinationOut:
    return DestinationOut(
        level=handover.destination_level,  # type: ignore[arg-type]
        organisation=handover.destination_organisation,
        team=handover.destination_team,
        reason=handover.destination_reason,
    )


def _ref(handover: Handover | None) -> HandoverRef | None:
    if handover is None:
        return None
    return HandoverRef(
        id=handover.id,
        reference=handover.reference,
        destination=_destination(handover),
        status=handover.status,  # type: ignore[arg-type]
    )


def to_out(handover: Handover) -> HandoverOut:
    return HandoverOut(
        id=handover.id,
        reference=handover.reference,
        status=handover.status,  # type: ignore[arg-type]
        priority=handover.priority,  # type: ignore[arg-type]
        created_at=handover.created_at,
        updated_at=handover.updated_at,
        municipality=MunicipalityOut(
            code=handover.municipality_code, name=handover.municipality_name
        ),
        destination=_destination(handover),
        life_domains=[LifeDomainOut.model_validate(d) for d in handover.life_domains],
        multi_problem=handover.multi_problem,
        crisis=CrisisOut.model_validate(handover.crisis) if handover.crisis else None,
        summary=handover.summary,
        application=(
            ApplicationOut.model_validate(handover.application) if handover.application else None
        ),
        contact=ContactOut.model_validate(handover.contact or {}),
        consent=ConsentOut(
            given=handover.consent_given,
            at=handover.consent_at,
            text_version=handover.consent_text_version,
        ),
        conversation_id=handover.conversation_id,
        channel=handover.channel,  # type: ignore[arg-type]
        return_reason=handover.return_reason,
        returned_from=_ref(handover.returned_from),
        returned_to=_ref(handover.returned_to[0] if handover.returned_to else None),
        links=links_for(handover),
    )


def notes_out(handover: Handover) -> list[NoteOut]:
    return [
        NoteOut(
            id=n.id,
            created_at=n.created_at,
            author=n.author_display_name,
            author_username=n.author_username,
            text=n.text,
        )
        for n in handover.notes
    ]


# --- create ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateResult:
    handover: Handover
    created: bool


def _by(session: Session, column: Any, value: str) -> Handover | None:
    return session.scalars(select(Handover).where(column == value)).first()


def get_by_idempotency_key(session: Session, *, key: str) -> Handover | None:
    return _by(session, Handover.idempotency_key, key)


def _replay_or_conflict(
    session: Session, *, idempotency_key: str | None, reference: str | None, body_hash: str
) -> Handover | None:
    """An existing handover this request repeats, None if new; ConflictError on a clash."""
    if idempotency_key:
        existing = _by(session, Handover.idempotency_key, idempotency_key)
        if existing is not None:
            if existing.request_hash != body_hash:
                raise ConflictError(
                    "Idempotency-Key was already used for a different request body; "
                    "use a new key for a new handover"
                )
            return existing
    if reference:
        existing = _by(session, Handover.reference, reference)
        if existing is not None:
            if existing.request_hash != body_hash:
                raise ConflictError(f"reference {reference} is already used by another handover")
            return existing
    return None


def create_handover(
    session: Session,
    *,
    payload: HandoverCreate,
    idempotency_key: str | None,
    actor: str,
) -> CreateResult:
    """Create a handover and store its transcript; a repeated request returns the first one.

    A request repeats an earlier one when it has the same ``Idempotency-Key`` (or the same
    client-proposed ``reference``) and the same body; the same key or reference with another
    body is a ConflictError. Concurrent duplicates are caught by the unique constraints.
    Commits.
    """
    body_hash = request_hash(payload)
    existing = _replay_or_conflict(
        session, idempotency_key=idempotency_key, reference=payload.reference, body_hash=body_hash
    )
    if existing is not None:
        return CreateResult(existing, created=False)

    priority = "urgent" if payload.crisis is not None else payload.priority
    for _attempt in range(8):
        handover = Handover(
            id=uuid.uuid4(),
            reference=payload.reference or generate_reference(),
            status="new",
            priority=priority,
            municipality_code=payload.municipality.code,
            municipality_name=payload.municipality.name,
            destination_level=payload.destination.level,
            destination_organisation=payload.destination.organisation,
            destination_team=payload.destination.team,
            destination_reason=payload.destination.reason,
            life_domains=[
                {"code": d.code, "evidence": [redact(e) for e in d.evidence]}
                for d in payload.life_domains
            ],
            multi_problem=payload.multi_problem,
            crisis=payload.crisis.model_dump() if payload.crisis else None,
            summary=payload.summary,
            application=payload.application.model_dump(mode="json")
            if payload.application
            else None,
            contact=payload.contact.model_dump(mode="json"),
            consent_given=payload.consent.given,
            consent_at=payload.consent.at,
            consent_text_version=payload.consent.text_version,
            conversation_id=payload.conversation_id,
            channel=payload.channel,
            idempotency_key=idempotency_key,
            request_hash=body_hash,
        )
        try:
            with session.begin_nested():
                session.add(handover)
        except IntegrityError:
            # Someone else inserted the same key/reference meanwhile, or a generated
            # reference collided (then simply try another one).
            existing = _replay_or_conflict(
                session,
                idempotency_key=idempotency_key,
                reference=payload.reference,
                body_hash=body_hash,
            )
            if existing is not None:
                return CreateResult(existing, created=False)
            if payload.reference:
                raise
            continue
        break
    else:  # pragma: no cover - 8 collisions in a row among 390,625 * 100 references
        raise ConflictError("could not allocate a unique reference, please retry")

    append_events(session, conversation_id=payload.conversation_id, events=payload.transcript)
    audit.record(
        session,
        actor=actor,
        action="handover.create",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={"handover_id": str(handover.id), "reference": handover.reference},
    )
    session.commit()
    logger.info(
        "handover created reference=%s destination=%s/%s priority=%s conversation=%s",
        handover.reference,
        handover.destination_organisation,
        handover.destination_team,
        handover.priority,
        redact_for_log(handover.conversation_id),
    )
    return CreateResult(handover, created=True)


# --- read ------------------------------------------------------------------------------------


def list_handovers(
    session: Session,
    *,
    organisation: str,
    status: str | None = None,
    priority: str | None = None,
    municipality: str | None = None,
    level: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[Sequence[Handover], int]:
    """Handovers addressed to ``organisation``: urgent first, then newest first."""
    conditions = [Handover.destination_organisation == organisation]
    if status:
        conditions.append(Handover.status == status)
    if priority:
        conditions.append(Handover.priority == priority)
    if municipality:
        conditions.append(Handover.municipality_code == municipality)
    if level:
        conditions.append(Handover.destination_level == level)
    total = session.scalar(select(func.count()).select_from(Handover).where(*conditions)) or 0
    items = session.scalars(
        select(Handover)
        .where(*conditions)
        .order_by(
            case((Handover.priority == "urgent", 0), else_=1),
            Handover.created_at.desc(),
            Handover.reference,
        )
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return items, total


def get_for_organisation(
    session: Session, *, handover_id: uuid.UUID, organisation: str | None
) -> Handover | None:
    """The handover when it is addressed to ``organisation``; None otherwise (no leak)."""
    if organisation is None:
        return None
    return session.scalars(
        select(Handover).where(
            Handover.id == handover_id, Handover.destination_organisation == organisation
        )
    ).first()


# --- change ----------------------------------------------------------------------------------


def _copy_for_return(old: Handover, *, destination: DestinationIn, reason: str) -> Handover:
    return Handover(
        id=uuid.uuid4(),
        reference=generate_reference(),
        status="new",
        priority=old.priority,
        municipality_code=old.municipality_code,
        municipality_name=old.municipality_name,
        destination_level=destination.level,
        destination_organisation=destination.organisation,
        destination_team=destination.team,
        destination_reason=reason,
        life_domains=old.life_domains,
        multi_problem=old.multi_problem,
        crisis=old.crisis,
        summary=old.summary,
        application=old.application,
        contact=old.contact,
        consent_given=old.consent_given,
        consent_at=old.consent_at,
        consent_text_version=old.consent_text_version,
        conversation_id=old.conversation_id,
        channel=old.channel,
        returned_from_id=old.id,
    )


def change_status(
    session: Session, *, handover: Handover, update: HandoverUpdate, principal: Principal
) -> Handover:
    """Apply a status transition (see module docstring). Returns the (old) handover. Commits."""
    current, target = handover.status, update.status
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final status)"
        raise ConflictError(
            f"status cannot change from {current} to {target}; allowed from {current}: {allowed}"
        )
    detail: dict[str, Any] = {"handover_id": str(handover.id), "from": current, "to": target}
    successor: Handover | None = None
    if target == "returned":
        if not update.reason or not update.reason.strip():
            raise InvalidRequestError("a reason is required to return a handover")
        if update.destination is None:
            raise InvalidRequestError(
                "a destination (level, organisation, team) is required to return a handover"
            )
        if update.destination.organisation == handover.destination_organisation:
            raise InvalidRequestError(
                "a handover is returned to another organisation, not to its current one"
            )
        for _attempt in range(8):
            successor = _copy_for_return(
                handover, destination=update.destination, reason=update.reason
            )
            try:
                with session.begin_nested():
                    session.add(successor)
            except IntegrityError:
                continue
            break
        else:  # pragma: no cover
            raise ConflictError("could not allocate a unique reference, please retry")
        assert successor is not None
        handover.return_reason = update.reason
        detail["new_handover_id"] = str(successor.id)
    elif update.destination is not None:
        raise InvalidRequestError("destination can only be given when the status is returned")

    handover.status = target
    handover.updated_at = utcnow()
    if target in FINISHED_STATUSES:
        handover.closed_at = utcnow()
    audit.record(
        session,
        actor=principal.actor,
        action="handover.update",
        resource_type="handover",
        resource_id=str(handover.id),
        detail=detail,
    )
    if successor is not None:
        audit.record(
            session,
            actor=principal.actor,
            action="handover.create",
            resource_type="handover",
            resource_id=str(successor.id),
            detail={
                "handover_id": str(successor.id),
                "reference": successor.reference,
                "returned_from_id": str(handover.id),
            },
        )
    session.commit()
    session.expire(handover, ["returned_to"])
    logger.info(
        "handover %s status %s -> %s by %s%s",
        handover.reference,
        current,
        target,
        principal.actor,
        f" (new handover {successor.reference})" if successor is not None else "",
    )
    return handover


def add_note(
    session: Session, *, handover: Handover, text: str, principal: Principal
) -> HandoverNote:
    note = HandoverNote(
        id=uuid.uuid4(),
        author_username=principal.username,
        author_display_name=principal.display_name,
        author_organisation=principal.organisation or "",
        text=text,
    )
    handover.notes.append(note)
    handover.updated_at = utcnow()
    audit.record(
        session,
        actor=principal.actor,
        action="note.create",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={"handover_id": str(handover.id), "note_id": str(note.id)},
    )
    session.commit()
    return note
