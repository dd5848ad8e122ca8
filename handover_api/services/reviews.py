"""Front-office review of conversations: list, read, mark misunderstood messages, export.

Who sees what: a reviewer of an organisation sees every conversation (with or without a
handover) of the municipalities that organisation serves (``Directory.serves``: a municipal
organisation its own municipality, a regional one all of its region's). A conversation of
another municipality, or one whose municipality is not known yet, does not exist for them.

Texts are always shown redacted (``services.redaction.redact``, the same redaction as the
redacted handover transcript); the review log already stores them redacted, so a text search
matches only what a reviewer may read, and a search for a phone number or BSN never reveals
which conversation holds it.

A conversation the resident had erased ("verwijder mijn gegevens",
``conversation_log.erase``) does not exist for anyone: its messages are gone and its tombstone
is never listed, found or opened.

A mark (``ReviewMark``) says that one resident message was misunderstood and which intent it
meant; there is one per message (marking again changes it, also when another organisation
serving the same municipality marked it first; it then belongs to the last marker's
organisation). ``export_nlu`` turns an organisation's marks into Rasa NLU training data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in .venv-api
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from handover_api.models import Conversation, ConversationEvent, Handover, ReviewMark, utcnow
from handover_api.services import audit
from handover_api.services.conversation_log import LOW_CONFIDENCE
from handover_api.services.directory import Directory
from handover_api.services.errors import InvalidRequestError, NotFoundError
from handover_api.services.principals import Principal
from handover_api.services.redaction import redact

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
REPO_ROOT = Path(__file__).resolve().parents[2]
NLU_VERSION = "3.1"

# The contract's intents when neither contract/intents.yml nor bot/domain is on disk.
_CONTRACT_INTENTS_FALLBACK: tuple[str, ...] = (
    "affirm",
    "apply",
    "ask_bezwaar",
    "ask_bijstand",
    "ask_bijzondere_bijstand",
    "ask_contact",
    "ask_jeugdhulp",
    "ask_minimaregelingen",
    "ask_schuldhulp",
    "ask_status_aanvraag",
    "ask_uitbetaling",
    "ask_werk",
    "ask_werkgever",
    "ask_wijziging_doorgeven",
    "ask_wmo",
    "ask_zelfstandige",
    "ask_zoektermijn_jongeren",
    "bot_challenge",
    "deny",
    "describe_situation",
    "goodbye",
    "greet",
    "inform",
    "out_of_scope",
    "request_human",
    "stop_form",
    "thank",
)


# --- intents ------------------------------------------------------------------------------------


def _intent_names(entries: Any) -> list[str]:
    """Names from a YAML ``intents:`` value: a mapping (the contract) or a list of names or
    one-key mappings (a Rasa domain, ``- greet`` or ``- greet: {use_entities: []}``)."""
    if isinstance(entries, dict):
        return [str(k) for k in entries]
    names: list[str] = []
    for entry in entries or []:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            names.append(str(next(iter(entry))))
    return names


@functools.lru_cache(maxsize=4)
def intent_choices(root: Path = REPO_ROOT) -> tuple[str, ...]:
    """The intents a reviewer may pick: the contract's (``contract/intents.yml``) and the
    project's own (the ``intents:`` lists of ``bot/domain/*.yml``), sorted, no repeats."""
    names: set[str] = set()
    contract = root / "contract" / "intents.yml"
    if contract.is_file():
        data = yaml.safe_load(contract.read_text(encoding="utf-8")) or {}
        names.update(_intent_names(data.get("intents")))
    for path in sorted((root / "bot" / "domain").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict):
            names.update(_intent_names(data.get("intents")))
    return tuple(sorted(names or _CONTRACT_INTENTS_FALLBACK))


# --- scope --------------------------------------------------------------------------------------


def municipalities_of(directory: Directory, organisation: str | None) -> list[str]:
    """Codes of the municipalities ``organisation`` serves (empty for an unknown one)."""
    if not organisation:
        return []
    return sorted(
        code
        for code in directory.municipalities
        if directory.serves(organisation=organisation, municipality_code=code)
    )


# --- listing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """What the reviewer asked for; None means "either"."""

    q: str = ""
    fallback: bool | None = None
    handover: bool | None = None
    low_confidence: bool | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    municipality: str | None = None  # a CBS code; only within the organisation's own

    def audit_detail(self) -> dict[str, Any]:
        """The filters for the audit log: the search text itself is never logged (it may be a
        name or a phone number), only that there was one."""
        return {
            "search": bool(self.q),
            "fallback": self.fallback,
            "handover": self.handover,
            "low_confidence": self.low_confidence,
            "channel": self.channel,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "municipality": self.municipality,
        }


@dataclass(frozen=True, slots=True)
class ConversationRow:
    id: str
    municipality_code: str | None
    municipality_name: str
    channel: str | None
    started_at: datetime
    last_at: datetime
    user_messages: int
    fallbacks: int
    low_confidence: int
    min_confidence: float | None
    references: tuple[str, ...]


def local_day_start(day: date) -> datetime:
    """Midnight of ``day`` in Amsterdam, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TIME)


def _has_fallback() -> ColumnElement[bool]:
    # The counters are kept by the ingest (late fallback marks included); an EXISTS over the
    # messages made this filter 10x slower and pushed PostgreSQL into JIT compilation.
    return Conversation.fallbacks > 0


def _has_low_confidence() -> ColumnElement[bool]:
    return or_(Conversation.low_confidence > 0, Conversation.min_confidence < LOW_CONFIDENCE)


def _has_handover() -> ColumnElement[bool]:
    return exists().where(Handover.conversation_id == Conversation.id)


def _text_matches(term: str) -> ColumnElement[bool]:
    """A message of the conversation contains ``term``. The review log stores texts already
    redacted (``conversation_log``), so this matches exactly what a reviewer may read: a
    search for a phone number or BSN finds nothing."""
    return exists().where(
        ConversationEvent.conversation_id == Conversation.id,
        func.lower(ConversationEvent.text).contains(term.lower(), autoescape=True),
    )


def _conditions(codes: Sequence[str], filters: ConversationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Conversation.municipality_code.in_(codes),
        Conversation.erased_at.is_(None),
    ]
    term = filters.q.strip()
    if term:
        conditions.append(
            or_(
                func.lower(Conversation.id).contains(term.lower(), autoescape=True),
                exists().where(
                    Handover.conversation_id == Conversation.id,
                    func.upper(Handover.reference) == term.upper(),
                ),
                _text_matches(term),
            )
        )
    for wanted, condition in (
        (filters.fallback, _has_fallback()),
        (filters.handover, _has_handover()),
        (filters.low_confidence, _has_low_confidence()),
    ):
        if wanted is True:
            conditions.append(condition)
        elif wanted is False:
            conditions.append(~condition)
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.municipality:
        conditions.append(Conversation.municipality_code == filters.municipality)
    if filters.date_from:
        conditions.append(Conversation.last_at >= local_day_start(filters.date_from))
    if filters.date_to:
        conditions.append(
            Conversation.started_at < local_day_start(filters.date_to + timedelta(days=1))
        )
    return conditions


def references_of(session: Session, conversation_ids: Sequence[str]) -> dict[str, list[str]]:
    """The references of the handovers made from each conversation (any destination)."""
    found: dict[str, list[str]] = {}
    if not conversation_ids:
        return found
    rows = session.execute(
        select(Handover.conversation_id, Handover.reference)
        .where(Handover.conversation_id.in_(list(conversation_ids)))
        .order_by(Handover.created_at)
    ).all()
    for cid, reference in rows:
        found.setdefault(cid, []).append(reference)
    return found


def list_conversations(
    session: Session,
    *,
    directory: Directory,
    organisation: str,
    filters: ConversationFilter,
    page: int = 1,
    page_size: int = 25,
) -> tuple[list[ConversationRow], int]:
    """The organisation's conversations matching ``filters``, newest first, and the total."""
    codes = municipalities_of(directory, organisation)
    if not codes:
        return [], 0
    conditions = _conditions(codes, filters)
    total = session.scalar(select(func.count()).select_from(Conversation).where(*conditions)) or 0
    rows = session.scalars(
        select(Conversation)
        .where(*conditions)
        .order_by(Conversation.last_at.desc(), Conversation.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    refs = references_of(session, [c.id for c in rows])
    out = []
    for c in rows:
        municipality = directory.municipality(c.municipality_code or "")
        out.append(
            ConversationRow(
                id=c.id,
                municipality_code=c.municipality_code,
                municipality_name=municipality.name if municipality else "",
                channel=c.channel,
                started_at=c.started_at,
                last_at=c.last_at,
                user_messages=c.user_messages,
                fallbacks=c.fallbacks,
                low_confidence=c.low_confidence,
                min_confidence=c.min_confidence,
                references=tuple(refs.get(c.id, ())),
            )
        )
    return out, total


# --- one conversation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkView:
    correct_intent: str
    reviewer: str
    organisation: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    event_key: str  # the event's id in the conversation (``ConversationEvent.event_id``)
    sender: str
    text: str  # redacted
    at: datetime
    intent: str | None
    confidence: float | None
    low: bool
    fallback: bool
    mark: MarkView | None


def get_for_organisation(
    session: Session, *, directory: Directory, organisation: str | None, conversation_id: str
) -> Conversation | None:
    """The conversation when its municipality is served by ``organisation``; else None (also
    when it was erased)."""
    conversation = session.get(Conversation, conversation_id)
    if (
        conversation is None
        or conversation.erased_at is not None
        or not conversation.municipality_code
        or not organisation
    ):
        return None
    if not directory.serves(
        organisation=organisation, municipality_code=conversation.municipality_code
    ):
        return None
    return conversation


def messages_of(session: Session, *, conversation_id: str) -> list[MessageView]:
    """Every message of the conversation, oldest first, redacted, with its review mark."""
    events = session.scalars(
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id)
        .order_by(ConversationEvent.at, ConversationEvent.id)
    ).all()
    marks = {
        m.event_id: m
        for m in session.scalars(
            select(ReviewMark).where(ReviewMark.conversation_id == conversation_id)
        )
    }
    out = []
    for e in events:
        mark = marks.get(e.id)
        out.append(
            MessageView(
                id=e.id,
                event_key=e.event_id,
                sender=e.sender,
                text=redact(e.text),
                at=e.at,
                intent=e.intent,
                confidence=e.confidence,
                low=e.sender == "user"
                and e.confidence is not None
                and e.confidence < LOW_CONFIDENCE,
                fallback=e.fallback,
                mark=(
                    MarkView(
                        correct_intent=mark.correct_intent,
                        reviewer=mark.reviewer_display_name,
                        organisation=mark.organisation,
                        at=mark.created_at,
                    )
                    if mark
                    else None
                ),
            )
        )
    return out


def read_conversation(
    session: Session,
    *,
    directory: Directory,
    principal: Principal,
    conversation_id: str,
    via: str,
) -> tuple[Conversation, list[MessageView]] | None:
    """The conversation and its messages for a reviewer, the read audited; None when it is
    not one of the organisation's (nothing is audited then but the caller's refusal)."""
    conversation = get_for_organisation(
        session,
        directory=directory,
        organisation=principal.organisation,
        conversation_id=conversation_id,
    )
    if conversation is None:
        return None
    messages = messages_of(session, conversation_id=conversation.id)
    audit.record_conversation_read(
        session, actor=principal.actor, conversation_id=conversation.id, via=via
    )
    return conversation, messages


def _user_event(session: Session, conversation: Conversation, event_id: int) -> ConversationEvent:
    event = session.get(ConversationEvent, event_id)
    if event is None or event.conversation_id != conversation.id or event.sender != "user":
        raise NotFoundError("no resident message with this id in this conversation")
    return event


def event_pk(session: Session, *, conversation: Conversation, event_key: str) -> int:
    """The row id of the message ``event_key`` of the conversation (the API names messages by
    their event id, the pages by row id)."""
    found = session.scalar(
        select(ConversationEvent.id).where(
            ConversationEvent.conversation_id == conversation.id,
            ConversationEvent.event_id == event_key,
        )
    )
    if found is None:
        raise NotFoundError("no message with this event_id in this conversation")
    return int(found)


def mark_message(
    session: Session,
    *,
    conversation: Conversation,
    event_id: int,
    correct_intent: str,
    principal: Principal,
    choices: Sequence[str] | None = None,
) -> ReviewMark:
    """Mark a resident message as misunderstood, meaning ``correct_intent`` (again: change)."""
    if correct_intent not in (choices if choices is not None else intent_choices()):
        raise InvalidRequestError(f"unknown intent {correct_intent!r}")
    assert principal.organisation is not None
    event = _user_event(session, conversation, event_id)
    mark = session.scalars(select(ReviewMark).where(ReviewMark.event_id == event.id)).first()
    previous = mark.correct_intent if mark else None
    if mark is None:
        mark = ReviewMark(event_id=event.id, conversation_id=conversation.id)
        session.add(mark)
    mark.correct_intent = correct_intent
    mark.reviewer_username = principal.username
    mark.reviewer_display_name = principal.display_name
    mark.organisation = principal.organisation
    mark.created_at = utcnow()
    audit.record_review_mark(
        session,
        actor=principal.actor,
        conversation_id=conversation.id,
        event_id=event.id,
        correct_intent=correct_intent,
        previous=previous,
    )
    session.flush()
    return mark


def unmark_message(
    session: Session, *, conversation: Conversation, event_id: int, principal: Principal
) -> bool:
    """Take a mark away; False when the message had none."""
    event = _user_event(session, conversation, event_id)
    mark = session.scalars(select(ReviewMark).where(ReviewMark.event_id == event.id)).first()
    if mark is None:
        return False
    session.delete(mark)
    audit.record_review_mark(
        session,
        actor=principal.actor,
        conversation_id=conversation.id,
        event_id=event.id,
        correct_intent=None,
        previous=mark.correct_intent,
    )
    session.flush()
    return True


# --- export -------------------------------------------------------------------------------------


class _Literal(str):
    """A string PyYAML writes as a literal block (``|``)."""


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    pass


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


_Dumper.add_representer(_Literal, _literal)

# Rasa reads "[text](entity)", "[text]{...}" and "[text][...]" as entity annotations; a
# redaction token such as "[telefoon]" directly followed by one of those brackets is split.
_ANNOTATION_LIKE = re.compile(r"\](?=[({\[])")


def example_line(text: str) -> str:
    """One training example from a message: redacted, on one line, never read as markup."""
    line = " ".join(redact(text).split())
    return _ANNOTATION_LIKE.sub("] ", line)


class ExportError(RuntimeError):
    """The export did not come out as valid Rasa NLU data (a bug, never the user's input)."""


def corrections(session: Session, *, organisation: str) -> dict[str, list[str]]:
    """Intent -> sorted, unique example lines of the organisation's marks. A text marked with
    two different intents keeps only the latest mark's (Rasa warns about such conflicts)."""
    rows = session.execute(
        select(ReviewMark.correct_intent, ConversationEvent.text)
        .join(ConversationEvent, ConversationEvent.id == ReviewMark.event_id)
        .where(ReviewMark.organisation == organisation)
        .order_by(ReviewMark.created_at, ReviewMark.id)
    ).all()
    latest: dict[str, str] = {}
    for intent, text in rows:
        line = example_line(text)
        if line:
            latest[line] = intent
    by_intent: dict[str, list[str]] = {}
    for line, intent in latest.items():
        by_intent.setdefault(intent, []).append(line)
    return {intent: sorted(lines) for intent, lines in sorted(by_intent.items())}


def nlu_yaml(examples: dict[str, list[str]]) -> str:
    """Rasa NLU YAML (``version: "3.1"``, ``nlu:`` with literal ``examples: |`` blocks),
    checked by parsing it back."""
    document = {
        "version": NLU_VERSION,
        "nlu": [
            {"intent": intent, "examples": _Literal("".join(f"- {line}\n" for line in lines))}
            for intent, lines in examples.items()
            if lines
        ],
    }
    header = (
        "# Voordeur: berichten die de front office als 'niet begrepen' markeerde, met de\n"
        "# bedoelde intentie. Geredigeerd; controleer ze voor u ze in data/nlu/ zet.\n"
    )
    body: str = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000
    )
    text = header + body
    check_nlu_yaml(text, examples)
    return text


def check_nlu_yaml(text: str, expected: dict[str, list[str]] | None = None) -> None:
    """Raise ``ExportError`` unless ``text`` has Rasa's NLU shape (and holds ``expected``)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or data.get("version") != NLU_VERSION:
        raise ExportError('the export must start with version: "3.1"')
    nlu = data.get("nlu")
    if not isinstance(nlu, list):
        raise ExportError("the export must have an nlu: list")
    parsed: dict[str, list[str]] = {}
    for item in nlu:
        if not isinstance(item, dict) or set(item) != {"intent", "examples"}:
            raise ExportError("every nlu item must have exactly intent and examples")
        examples = item["examples"]
        if not isinstance(item["intent"], str) or not isinstance(examples, str):
            raise ExportError("intent and examples must be strings")
        lines = examples.splitlines()
        if not all(line.startswith("- ") and line[2:].strip() for line in lines):
            raise ExportError("every example line must start with '- '")
        parsed[item["intent"]] = [line[2:] for line in lines]
    if expected is not None and parsed != {k: v for k, v in expected.items() if v}:
        raise ExportError("the export does not read back as the corrections it was made from")


def export_nlu(
    session: Session, *, principal: Principal, via: str
) -> tuple[str, dict[str, list[str]]]:
    """The organisation's corrections as Rasa NLU YAML (audited)."""
    assert principal.organisation is not None
    examples = corrections(session, organisation=principal.organisation)
    text = nlu_yaml(examples)
    audit.record_review_export(
        session,
        actor=principal.actor,
        organisation=principal.organisation,
        intents=len(examples),
        examples=sum(len(v) for v in examples.values()),
        via=via,
    )
    return text, examples
