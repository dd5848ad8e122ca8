"""Business rules of handovers: create (idempotent), list, read, status transitions, notes.

Status transitions (anything else is refused with 409):

    new         -> claimed | in_progress | returned
    claimed     -> new (release) | in_progress | closed | returned
    in_progress -> closed | returned
    returned, closed: final

``returned`` is the reverse warm handover: it needs a reason and a destination of the other
level that the municipality's region configuration routes to; the handover is marked returned
and a NEW handover with the same data (status new, ``returned_from`` = the old one, destination
= the given one with the reason) lands in the other organisation's inbox, so the citizen is not
asked anything twice. Internal notes stay with the organisation that wrote them.

Consent names an organisation. The receiving organisation sees the summary, life domains,
crisis, application, contact and transcript only while the consent names it and has not been
withdrawn (``Handover.consent_covers_destination``); otherwise it sees that consent is missing,
who holds it, and the case's metadata. A returned case is covered only when the returning
professional confirms that the resident agreed to share with the new organisation.

Transcripts belong to a handover: the messages sent with it under its consent, BSNs stripped;
so are the summary and every value of the application (``services/applications.strip_bsns``).
Status changes lock the handover row (``SELECT ... FOR UPDATE``), so concurrent returns of one
handover create one successor and the others get 409.

Assignment: claiming (``claimed``) gives the case to the claimer by name (``assigned_*``;
``claimed_at`` on the first claim); taking a case ``in_progress`` straight from ``new`` does
the same when nobody has it; releasing (back to ``new``) clears it; ``assign`` hands it to
another active case worker of the same organisation (audited ``handover.assign``).

The inbox: ``list_handovers`` filters (status or ``open``, priority, municipality, level, team,
life domain, assignee, and ``q``: a reference, whole or its start, with or without ``VD-``, or
a phone number compared on its last nine digits) and orders ``newest`` (the API's contract:
urgent first, newest first) or ``waiting`` (the staff inbox: open cases first, urgent first,
then longest waiting first). ``status_counts`` gives the counts per status for the same
filters. Phone numbers and life domains are only searched in handovers whose consent covers
the organisation: what it may not see, it may not find either. ``topic_of`` and
``service_level`` are what an inbox row shows of a case.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from applications.catalogue import Catalogue
from common.references import random_reference
from handover_api.models import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    STATUSES,
    Handover,
    HandoverNote,
    StaffUser,
    TranscriptEvent,
    utcnow,
)
from handover_api.schemas import (
    ApplicationOut,
    AssignedTo,
    ConsentOut,
    ContactOut,
    CrisisOut,
    DestinationIn,
    DestinationOut,
    EventIn,
    EventOut,
    HandoverCreate,
    HandoverLinks,
    HandoverOut,
    HandoverRef,
    HandoverUpdate,
    LifeDomainOut,
    MunicipalityOut,
    NoteOut,
)
from handover_api.services import audit, events, notifications
from handover_api.services.applications import strip_bsns
from handover_api.services.conversations import event_key
from handover_api.services.directory import Directory
from handover_api.services.errors import ConflictError, InvalidRequestError
from handover_api.services.pagination import page_of
from handover_api.services.principals import Principal
from handover_api.services.redaction import redact, redact_for_log, strip_bsn

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# What a receiving organisation does not see while consent does not cover it.
WITHHELD_FIELDS = ("summary", "life_domains", "crisis", "application", "contact", "transcript")
WITHHELD_SUMMARY = (
    "Niet zichtbaar: de inwoner heeft (nog) geen toestemming gegeven om deze gegevens met uw "
    "organisatie te delen."
)
RETURN_CONSENT_VERSION = "bevestigd-bij-terugleggen"

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"claimed", "in_progress", "returned"}),
    "claimed": frozenset({"new", "in_progress", "closed", "returned"}),
    "in_progress": frozenset({"closed", "returned"}),
    "returned": frozenset(),
    "closed": frozenset(),
}


# --- shaping ---------------------------------------------------------------------------------


def generate_reference() -> str:
    """A reference when the assistant proposed none (the same alphabet as the assistant's)."""
    return random_reference()


def request_hash(payload: HandoverCreate) -> str:
    """SHA-256 of the canonical JSON of the validated request body."""
    canonical = json.dumps(
        payload.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def links_for(handover: Handover) -> HandoverLinks:
    return HandoverLinks(
        self=f"{API_PREFIX}/handovers/{handover.id}",
        transcript=f"{API_PREFIX}/handovers/{handover.id}/transcript",
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


def _consent(handover: Handover) -> ConsentOut:
    return ConsentOut(
        given=handover.consent_given,
        at=handover.consent_at,
        text_version=handover.consent_text_version,
        organisation=handover.consent_organisation,
        covers_destination=handover.consent_covers_destination,
        withdrawn_at=handover.consent_withdrawn_at,
    )


def to_out(handover: Handover) -> HandoverOut:
    """The handover as its receiving organisation may see it: while consent does not cover
    that organisation, metadata only (enough to see the case exists, who holds consent and
    whom to ask), with ``withheld`` naming what is hidden."""
    out = HandoverOut(
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
            # stripped again on the way out: applications stored before fields were checked
            ApplicationOut.model_validate(strip_bsns(handover.application))
            if handover.application
            else None
        ),
        contact=ContactOut.model_validate(handover.contact or {}),
        consent=_consent(handover),
        conversation_id=handover.conversation_id,
        channel=handover.channel,  # type: ignore[arg-type]
        return_reason=handover.return_reason,
        returned_from=_ref(handover.returned_from),
        returned_to=_ref(handover.returned_to[0] if handover.returned_to else None),
        links=links_for(handover),
        assigned_to=(
            AssignedTo(
                username=handover.assigned_username,
                display_name=handover.assigned_name or handover.assigned_username,
                at=handover.assigned_at,
            )
            if handover.assigned_username
            else None
        ),
        claimed_at=handover.claimed_at,
        first_contact_at=handover.first_contact_at,
        claim_due_at=handover.claim_due_at,
        escalated_at=handover.escalated_at,
    )
    if handover.consent_covers_destination:
        return out
    return out.model_copy(
        update={
            "life_domains": [],
            "crisis": None,
            "summary": WITHHELD_SUMMARY,
            "application": None,
            "contact": ContactOut(),
            "withheld": list(WITHHELD_FIELDS),
        }
    )


def _transcript_rows(events: Sequence[EventIn]) -> list[TranscriptEvent]:
    """One row per distinct event (same key = a duplicate), oldest first, BSNs stripped."""
    unique: dict[str, EventIn] = {}
    for event in events:
        unique.setdefault(event_key(event), event)
    ordered = sorted(unique.items(), key=lambda item: item[1].at)
    return [
        TranscriptEvent(
            event_id=key, sender=e.sender, text=strip_bsn(e.text), at=e.at, intent=e.intent
        )
        for key, e in ordered
    ]


def load_transcript(session: Session, *, handover: Handover) -> Sequence[TranscriptEvent]:
    return session.scalars(
        select(TranscriptEvent)
        .where(TranscriptEvent.handover_id == handover.id)
        .order_by(TranscriptEvent.at, TranscriptEvent.id)
    ).all()


def transcript_of(session: Session, *, handover: Handover, redacted: bool) -> list[EventOut]:
    """The messages shared with this handover's consent; none while consent does not cover."""
    if not handover.consent_covers_destination:
        return []
    return [
        EventOut(
            event_id=e.event_id,
            sender=e.sender,  # type: ignore[arg-type]
            text=redact(e.text) if redacted else e.text,
            at=e.at,
            intent=e.intent,
        )
        for e in load_transcript(session, handover=handover)
    ]


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


# --- search columns --------------------------------------------------------------------------


def phone_digits(phone: object) -> str | None:
    """The last nine digits of a phone number (06..., +316... and 00316... alike), or None."""
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())
    return digits[-9:] if len(digits) >= 9 else None


def domain_codes_of(life_domains: Sequence[Any]) -> str:
    """ ",code,code," of the life domains (so that ``LIKE '%,code,%'`` finds one)."""
    codes = [
        str(d.get("code")) for d in life_domains or [] if isinstance(d, dict) and d.get("code")
    ]
    return f",{','.join(codes)}," if codes else ""


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
            summary=strip_bsn(payload.summary),
            application=strip_bsns(payload.application.model_dump(mode="json"))
            if payload.application
            else None,
            contact=payload.contact.model_dump(mode="json"),
            consent_given=payload.consent.given,
            consent_at=payload.consent.at,
            consent_text_version=payload.consent.text_version,
            consent_organisation=payload.destination.organisation,
            conversation_id=payload.conversation_id,
            channel=payload.channel,
            idempotency_key=idempotency_key,
            request_hash=body_hash,
            search_phone=phone_digits(payload.contact.phone),
            domain_codes=domain_codes_of([{"code": d.code} for d in payload.life_domains]),
            # A new handover was returned to nobody yet: known now, so that the response
            # (to_out) does not open a second transaction to load an empty list.
            returned_to=[],
        )
        handover.transcript = _transcript_rows(payload.transcript)
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

    _record_created(session, handover, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="handover.create",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={"handover_id": str(handover.id), "reference": handover.reference},
    )
    # The claim deadline, the team's announcement and the organisation's export (outboxes).
    notifications.on_arrival(session, handover)
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


def _record_created(
    session: Session,
    handover: Handover,
    *,
    actor: str,
    actor_name: str | None = None,
    consent: bool = True,
    returned_from: Handover | None = None,
) -> None:
    """The timeline's start: the consent (at its own moment, by whom recorded it) and the
    arrival in the receiving inbox."""
    if consent and handover.consent_given:
        events.record(
            session,
            handover,
            "consent_given",
            actor=handover.consent_recorded_by,
            actor_name=actor_name if handover.consent_recorded_by == actor else None,
            detail={
                "organisation": handover.consent_organisation,
                "text_version": handover.consent_text_version,
            },
            at=handover.consent_at,
        )
    detail: dict[str, Any] = {
        "organisation": handover.destination_organisation,
        "team": handover.destination_team,
        "channel": handover.channel,
        "priority": handover.priority,
    }
    if returned_from is not None:
        detail["returned_from"] = returned_from.destination_organisation
        detail["returned_from_id"] = str(returned_from.id)
    events.record(
        session,
        handover,
        "created",
        actor=actor,
        actor_name=actor_name,
        detail=detail,
        at=handover.created_at or utcnow(),
    )


# --- read ------------------------------------------------------------------------------------


Order = Literal["newest", "waiting"]
_NOT_REFERENCE = re.compile(r"[^0-9A-Z]")
_PHONE_LIKE = re.compile(r"^[0-9+()./\s-]+$")


def search_kind(q: str | None) -> Literal["reference", "phone"] | None:
    """What ``q`` searches: a phone number (9+ digits and only phone characters), else a
    reference (its letters and digits); None when there is nothing to search for."""
    text = (q or "").strip()
    if not text:
        return None
    if _PHONE_LIKE.match(text) and phone_digits(text):
        return "phone"
    return "reference" if _NOT_REFERENCE.sub("", text.upper()) else None


def _covered() -> ColumnElement[bool]:
    """SQL of ``Handover.consent_covers_destination``."""
    return and_(
        Handover.consent_given.is_(True),
        Handover.consent_withdrawn_at.is_(None),
        Handover.consent_organisation == Handover.destination_organisation,
    )


def _search_condition(q: str) -> ColumnElement[bool] | None:
    kind = search_kind(q)
    if kind == "phone":
        return and_(Handover.search_phone == phone_digits(q), _covered())
    if kind == "reference":
        wanted = _NOT_REFERENCE.sub("", q.strip().upper())
        if not wanted.startswith("VD"):
            wanted = f"VD{wanted}"
        # references are "VD-XXXX-99": compare without the dashes, by prefix
        return func.replace(Handover.reference, "-", "").startswith(wanted, autoescape=True)
    return None


@dataclass(frozen=True, slots=True)
class HandoverFilter:
    """What a list of one organisation's handovers is narrowed to (inbox and API alike).

    ``status`` is one status or ``open`` (new, claimed, in progress); ``q`` a reference or a
    phone number (``search_kind``); ``assigned_username`` "mijn zaken", ``unassigned`` nobody's.
    """

    organisation: str
    status: str | None = None
    priority: str | None = None
    municipality: str | None = None
    level: str | None = None
    team: str | None = None
    domain: str | None = None
    q: str | None = None
    assigned_username: str | None = None
    unassigned: bool = False


def _conditions(f: HandoverFilter) -> list[ColumnElement[bool]]:
    organisation, status, priority = f.organisation, f.status, f.priority
    municipality, level, team, domain, q = f.municipality, f.level, f.team, f.domain, f.q
    assigned_username, unassigned = f.assigned_username, f.unassigned
    conditions: list[ColumnElement[bool]] = [Handover.destination_organisation == organisation]
    if status == "open":
        conditions.append(Handover.status.in_(OPEN_STATUSES))
    elif status:
        conditions.append(Handover.status == status)
    if priority:
        conditions.append(Handover.priority == priority)
    if municipality:
        conditions.append(Handover.municipality_code == municipality)
    if level:
        conditions.append(Handover.destination_level == level)
    if team:
        conditions.append(Handover.destination_team == team)
    if domain:
        conditions.append(Handover.domain_codes.contains(f",{domain},", autoescape=True))
        conditions.append(_covered())
    if q:
        searched = _search_condition(q)
        if searched is not None:
            conditions.append(searched)
    if assigned_username:
        conditions.append(Handover.assigned_username == assigned_username)
    if unassigned:
        conditions.append(Handover.assigned_username.is_(None))
    return conditions


def list_handovers(
    session: Session,
    *,
    filters: HandoverFilter,
    order: Order = "newest",
    page: int = 1,
    page_size: int = 20,
) -> tuple[Sequence[Handover], int]:
    """Handovers matching ``filters`` (see ``HandoverFilter``). ``order="newest"``: urgent
    first, then newest first; ``order="waiting"``: open cases first, urgent first, then the
    longest waiting first."""
    conditions = _conditions(filters)
    urgent_first = case((Handover.priority == "urgent", 0), else_=1)
    order_by: list[Any]
    if order == "waiting":
        open_first = case((Handover.status.in_(OPEN_STATUSES), 0), else_=1)
        order_by = [open_first, urgent_first, Handover.created_at, Handover.reference]
    else:
        order_by = [urgent_first, Handover.created_at.desc(), Handover.reference]
    return page_of(
        session,
        Handover,
        conditions=conditions,
        order_by=order_by,
        page=page,
        page_size=page_size,
        key=Handover.id,
    )


def status_counts(session: Session, *, filters: HandoverFilter) -> dict[str, int]:
    """How many handovers per status match the other filters (every status, zeros too),
    plus ``open`` (new, claimed, in progress) and ``all``; ``filters.status`` is ignored."""
    conditions = _conditions(replace(filters, status=None))
    rows = session.execute(
        select(Handover.status, func.count()).where(*conditions).group_by(Handover.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in rows:
        counts[str(status)] = int(count)
    counts["open"] = sum(counts[s] for s in OPEN_STATUSES)
    counts["all"] = sum(counts[s] for s in STATUSES)
    return counts


# --- what an inbox row shows -------------------------------------------------------------------

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
DEFAULT_QUESTION = "wil graag contact met een medewerker"
WITHHELD_TOPIC = "Niet zichtbaar zonder toestemming"
# Lines of the assistant's summary (actions/transcript.build_summary) that are no topic.
_TEMPLATE_LINES = (
    "VEILIG CONTACT",
    "Vraag:",
    "Gemeente:",
    "Voorwaarde van de inwoner:",
    "Leefgebieden genoemd:",
    "In eigen woorden:",
    "Telefoonnummer gegeven",
    "Geen telefoonnummer gegeven",
)
_QUOTED = re.compile(r"\u201c([^\u201d]+)\u201d")
TOPIC_LENGTH = 90


def _short(text: str, length: int = TOPIC_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip(" ,.;:") + "\u2026"


def _label(code: str) -> str:
    return code.replace("_", " ")


def topic_of(out: HandoverOut, catalogue: Catalogue) -> str:
    """A short topic that tells cases apart in a list: the application's title; else the
    resident's question, the resident's own words or the summary's first own line; else the
    crisis or the life domains. Never the assistant's generic "Vraag: wil graag contact..."."""
    if out.withheld:
        return WITHHELD_TOPIC
    if out.application is not None:
        known = catalogue.regelingen.get(out.application.type)
        return known.title if known else _label(out.application.type).capitalize()
    lines = [line.strip() for line in out.summary.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Vraag:"):
            question = line.removeprefix("Vraag:").strip().rstrip(".")
            if question and question != DEFAULT_QUESTION:
                return _short(question[:1].upper() + question[1:])
    for line in lines:
        if line.startswith("In eigen woorden:"):
            words = _QUOTED.findall(line)
            if words:
                return _short(f"\u201c{words[0]}\u201d")
    for line in lines:
        if not line.startswith(_TEMPLATE_LINES):
            return _short(line)
    if out.crisis is not None:
        return f"Crisis: {_label(out.crisis.type)}"
    if out.life_domains:
        return "Leefgebieden: " + ", ".join(_label(d.code) for d in out.life_domains)
    return "Contactverzoek"


ServiceState = Literal["binnen", "laatste_dag", "verlopen", "contact", "afgerond", "onbekend"]


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """How long a case has waited against its team's service level, in working days."""

    working_days: int  # waited: until the first contact, the closing, or now
    term: int | None  # the team's service level (None: unknown team)
    state: ServiceState
    label: str  # e.g. "2 werkdagen – binnen termijn (3)"

    @property
    def overdue(self) -> bool:
        return self.state == "verlopen" or (
            self.state == "contact" and self.term is not None and self.working_days > self.term
        )


def _days(n: int) -> str:
    return f"{n} werkdag" if n == 1 else f"{n} werkdagen"


def service_level(
    handover: Handover, directory: Directory, *, now: datetime | None = None
) -> ServiceLevel:
    """Working days the resident waited (local dates, Europe/Amsterdam; the team's working
    days, without Dutch public holidays and its closing days) against the team's service
    level (``Directory.response_working_days``; urgent cases have the urgent one)."""
    term = directory.response_working_days(
        handover.destination_organisation,
        handover.destination_team,
        urgent=handover.priority == "urgent",
    )
    finished = handover.status in FINISHED_STATUSES
    stop = handover.first_contact_at or (handover.closed_at if finished else None) or now
    stop = stop or utcnow()
    calendar = directory.handling(
        handover.destination_organisation, handover.destination_team
    ).calendar
    waited = calendar.working_days_between(
        handover.created_at.astimezone(LOCAL_TIME).date(), stop.astimezone(LOCAL_TIME).date()
    )
    if handover.first_contact_at is not None:
        within = (
            "" if term is None else (" – binnen termijn" if waited <= term else " – buiten termijn")
        )
        return ServiceLevel(waited, term, "contact", f"Contact na {_days(waited)}{within}")
    if finished:
        return ServiceLevel(waited, term, "afgerond", f"Afgerond na {_days(waited)}")
    if term is None:
        return ServiceLevel(waited, term, "onbekend", f"{_days(waited)} (geen termijn bekend)")
    if waited > term:
        state: ServiceState = "verlopen"
        label = f"{_days(waited)} – termijn verlopen (termijn {_days(term)})"
    elif waited == term:
        state = "laatste_dag"
        label = f"{_days(waited)} – laatste dag van de termijn"
    else:
        state = "binnen"
        label = f"{_days(waited)} – binnen termijn ({_days(term)})"
    return ServiceLevel(waited, term, state, label)


def get_for_organisation(
    session: Session, *, handover_id: uuid.UUID, organisation: str | None, for_update: bool = False
) -> Handover | None:
    """The handover when it is addressed to ``organisation``; None otherwise (no leak).

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite serialises
    writers with BEGIN IMMEDIATE anyway), so a status change sees the latest status.
    """
    if organisation is None:
        return None
    query = select(Handover).where(
        Handover.id == handover_id, Handover.destination_organisation == organisation
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def visible_for_conversation(
    session: Session, *, conversation_id: str, organisation: str
) -> Sequence[Handover]:
    """The caller's handovers of one conversation whose consent covers the caller."""
    candidates = session.scalars(
        select(Handover).where(
            Handover.conversation_id == conversation_id,
            Handover.destination_organisation == organisation,
        )
    ).all()
    return [h for h in candidates if h.consent_covers_destination]


def get_by_id(session: Session, *, handover_id: uuid.UUID) -> Handover | None:
    return session.get(Handover, handover_id)


# --- change ----------------------------------------------------------------------------------


def _copy_for_return(
    old: Handover, *, destination: DestinationIn, reason: str, consent_by: str | None
) -> Handover:
    """The successor of a returned handover; consent covers it only when ``consent_by`` (the
    professional who confirmed the resident's agreement) is given."""
    now = utcnow()
    successor = Handover(
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
        consent_at=now if consent_by else old.consent_at,
        consent_text_version=RETURN_CONSENT_VERSION if consent_by else old.consent_text_version,
        consent_organisation=destination.organisation if consent_by else old.consent_organisation,
        consent_recorded_by=consent_by or old.consent_recorded_by,
        consent_withdrawn_at=old.consent_withdrawn_at,
        conversation_id=old.conversation_id,
        channel=old.channel,
        returned_from_id=old.id,
        search_phone=old.search_phone or phone_digits((old.contact or {}).get("phone")),
        domain_codes=old.domain_codes or domain_codes_of(old.life_domains),
    )
    successor.transcript = [
        TranscriptEvent(event_id=e.event_id, sender=e.sender, text=e.text, at=e.at, intent=e.intent)
        for e in old.transcript
    ]
    return successor


def _check_return(
    handover: Handover, update: HandoverUpdate, directory: Directory
) -> DestinationIn:
    if not update.reason or not update.reason.strip():
        raise InvalidRequestError("a reason is required to return a handover")
    if update.destination is None:
        raise InvalidRequestError(
            "a destination (level, organisation, team) is required to return a handover"
        )
    destination = update.destination
    if destination.organisation == handover.destination_organisation:
        raise InvalidRequestError(
            "a handover is returned to another organisation, not to its current one"
        )
    targets = directory.return_targets(
        municipality_code=handover.municipality_code,
        from_organisation=handover.destination_organisation,
    )
    if not any(
        (t.level, t.organisation, t.team)
        == (destination.level, destination.organisation, destination.team)
        for t in targets
    ):
        offered = ", ".join(f"{t.level}:{t.organisation}/{t.team}" for t in targets) or "none"
        raise InvalidRequestError(
            f"{destination.level}:{destination.organisation}/{destination.team} is not a return "
            f"target for {handover.municipality_name} from {handover.destination_organisation}; "
            f"choose one of: {offered}"
        )
    return destination


def change_status(
    session: Session,
    *,
    handover: Handover,
    update: HandoverUpdate,
    principal: Principal,
    directory: Directory,
) -> Handover:
    """Apply a status transition (see module docstring). Returns the (old) handover. Commits.

    The caller passes a handover it loaded with ``for_update=True``, so that two concurrent
    changes of one handover are serialised and the second sees the first one's status.
    """
    current, target = handover.status, update.status
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final status)"
        raise ConflictError(
            f"status cannot change from {current} to {target}; allowed from {current}: {allowed}"
        )
    detail: dict[str, Any] = {"handover_id": str(handover.id), "from": current, "to": target}
    successor: Handover | None = None
    if target == "returned":
        destination = _check_return(handover, update, directory)
        assert update.reason is not None
        consent_by = principal.actor if update.consent_for_destination else None
        for _attempt in range(8):
            successor = _copy_for_return(
                handover, destination=destination, reason=update.reason, consent_by=consent_by
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
        # The receiving team's deadline, announcement and export, as for any new handover.
        notifications.on_arrival(session, successor, directory=directory)
        handover.return_reason = update.reason
        detail["new_handover_id"] = str(successor.id)
        detail["consent_for_destination"] = consent_by is not None
    elif update.destination is not None or update.consent_for_destination:
        raise InvalidRequestError(
            "destination and consent_for_destination can only be given when the status is returned"
        )

    handover.status = target
    handover.updated_at = utcnow()
    if target in FINISHED_STATUSES:
        handover.closed_at = utcnow()
    if target == "claimed" or (target == "in_progress" and handover.assigned_username is None):
        _assign_to(handover, username=principal.username, display_name=principal.display_name)
        detail["assigned_to"] = principal.username
    elif target == "new":
        handover.assigned_username = None
        handover.assigned_name = None
        handover.assigned_at = None
        # Nobody has it now: the team's claim time starts again (and it may escalate again).
        notifications.restart_claim(session, handover, directory=directory)
    _record_status_event(session, handover, current, target, principal, successor)
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


STATUS_EVENTS = {
    "claimed": "claimed",
    "in_progress": "in_progress",
    "new": "released",
    "closed": "closed",
    "returned": "returned",
}


def _record_status_event(
    session: Session,
    handover: Handover,
    current: str,
    target: str,
    principal: Principal,
    successor: Handover | None,
) -> None:
    """``claimed``/``in_progress``/``released``/``closed``/``returned`` on the handover; a
    returned one's successor starts its own timeline (``created``, and ``consent_given`` when
    the returning professional confirmed the resident's agreement)."""
    now = handover.updated_at
    detail: dict[str, Any] = {"from": current}
    if successor is not None:
        detail |= {
            "to": successor.destination_organisation,
            "team": successor.destination_team,
            "level": successor.destination_level,
            "new_handover_id": str(successor.id),
            "consent_for_destination": successor.consent_covers_destination,
        }
    events.record(
        session,
        handover,
        STATUS_EVENTS[target],
        actor=principal.actor,
        actor_name=principal.display_name,
        detail=detail,
        at=now,
    )
    if successor is not None:
        _record_created(
            session,
            successor,
            actor=principal.actor,
            actor_name=principal.display_name,
            consent=successor.consent_text_version == RETURN_CONSENT_VERSION,
            returned_from=handover,
        )


def _assign_to(handover: Handover, *, username: str, display_name: str) -> None:
    now = utcnow()
    handover.assigned_username = username
    handover.assigned_name = display_name
    handover.assigned_at = now
    if handover.claimed_at is None:
        handover.claimed_at = now


def forward(
    session: Session,
    *,
    handover: Handover,
    team: str,
    principal: Principal,
    directory: Directory,
) -> Handover:
    """Send an open case to another team of its organisation (the contact centre to the
    wijkteam, one gebiedsteam to another): it becomes new and unassigned for that team, whose
    claim time starts now and who is told as for a new handover; the ``forwarded`` event
    names both teams. Audited. Commits.

    ConflictError (409) for a returned or closed case, or one already with that team;
    InvalidRequestError (422) for a team the organisation does not have. Another
    organisation is a return (``change_status`` to ``returned``), not a forward.
    """
    if handover.status in FINISHED_STATUSES:
        raise ConflictError(f"a {handover.status} handover cannot be forwarded")
    if team == handover.destination_team:
        raise ConflictError(f"the handover is already with team {team!r}")
    problem = directory.team_error(organisation=handover.destination_organisation, team=team)
    if problem:
        raise InvalidRequestError(problem)
    previous, status_before = handover.destination_team, handover.status
    now = utcnow()
    handover.destination_team = team
    handover.status = "new"
    handover.assigned_username = None
    handover.assigned_name = None
    handover.assigned_at = None
    handover.updated_at = now
    events.record(
        session,
        handover,
        "forwarded",
        actor=principal.actor,
        actor_name=principal.display_name,
        detail={"to": handover.destination_organisation, "team": team, "from_team": previous},
        at=now,
    )
    audit.record(
        session,
        actor=principal.actor,
        action="handover.forward",
        resource_type="handover",
        resource_id=str(handover.id),
        detail={
            "handover_id": str(handover.id),
            "from_team": previous,
            "to_team": team,
            "status": {"from": status_before, "to": "new"},
        },
    )
    notifications.restart_claim(session, handover, directory=directory, announce=True)
    session.commit()
    logger.info(
        "handover %s forwarded from team %s to %s by %s",
        handover.reference,
        previous,
        team,
        principal.actor,
    )
    return handover


def assignable_users(session: Session, *, organisation: str) -> Sequence[StaffUser]:
    """The active case workers (role staff) of ``organisation``: whom a case can be given to."""
    return session.scalars(
        select(StaffUser)
        .where(
            StaffUser.organisation == organisation,
            StaffUser.role == "staff",
            StaffUser.active.is_(True),
        )
        .order_by(StaffUser.team, StaffUser.display_name, StaffUser.username)
    ).all()


def assign(
    session: Session, *, handover: Handover, username: str, principal: Principal
) -> Handover:
    """Give an open case to ``username``, an active case worker of the case's (and the
    caller's) organisation; a new case becomes claimed. Audited. Commits.

    InvalidRequestError (422) for a user who is not such a case worker (another
    organisation's user, an auditor, a reviewer, a deactivated user; one message for all, so
    nothing is revealed about other organisations). ConflictError (409) for a case that is
    returned or closed."""
    if handover.status in FINISHED_STATUSES:
        raise ConflictError(f"a {handover.status} handover cannot be assigned")
    target = session.scalars(
        select(StaffUser).where(
            StaffUser.username == username,
            StaffUser.organisation == handover.destination_organisation,
            StaffUser.role == "staff",
            StaffUser.active.is_(True),
        )
    ).first()
    if target is None or principal.organisation != handover.destination_organisation:
        raise InvalidRequestError(f"no active case worker {username!r} in your organisation")
    previous = handover.assigned_username
    detail: dict[str, Any] = {
        "handover_id": str(handover.id),
        "from": previous,
        "to": target.username,
    }
    _assign_to(handover, username=target.username, display_name=target.display_name)
    if handover.status == "new":
        handover.status = "claimed"
        detail["status"] = {"from": "new", "to": "claimed"}
    handover.updated_at = utcnow()
    events.record(
        session,
        handover,
        "assigned",
        actor=principal.actor,
        actor_name=principal.display_name,
        detail={
            "to_username": target.username,
            "to_name": target.display_name,
            "from_username": previous,
        },
        at=handover.updated_at,
    )
    audit.record(
        session,
        actor=principal.actor,
        action="handover.assign",
        resource_type="handover",
        resource_id=str(handover.id),
        detail=detail,
    )
    session.commit()
    logger.info(
        "handover %s assigned %s -> %s by %s",
        handover.reference,
        previous or "-",
        target.username,
        principal.actor,
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


def withdraw_consent(session: Session, *, handover: Handover, actor: str) -> Handover:
    """The resident withdraws consent: from now on the receiving organisation (and that of any
    case returned from it) sees metadata and the withdrawal only. Idempotent. Commits."""
    now = utcnow()
    chain: list[Handover] = [handover]
    while chain:
        current = chain.pop()
        if current.consent_withdrawn_at is None:
            current.consent_withdrawn_at = now
            current.updated_at = now
            events.record(session, current, "consent_withdrawn", actor=actor, at=now)
            audit.record(
                session,
                actor=actor,
                action="consent.withdraw",
                resource_type="handover",
                resource_id=str(current.id),
                detail={"handover_id": str(current.id), "reference": current.reference},
            )
        chain.extend(current.returned_to)
    session.commit()
    return handover
