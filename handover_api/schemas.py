"""Request and response bodies (pydantic v2).

Input is validated, never rewritten: nothing is stripped or escaped (templates escape on
output), but lengths are limited and control characters are refused. Every input that the
database or the JSON encoder could choke on (years that overflow when converted to UTC,
``NaN``, deeply nested application fields, NUL characters) is refused here with a 422, so
that no request body can cause a 500.

Application fields are checked against the field catalogue (``data/applications.yml``, see
``handover_api/services/applications.py``), taken from the context (``{"catalogue": c}``) or
else from ``applications.current()``.

Municipalities, crisis types and destinations are checked against the region configuration
(``handover_api/services/directory.py``): a handover for a municipality or team that does not
exist would land in nobody's inbox. Validators take the directory from the validation
context (``model_validate(data, context={"directory": d})``, for tests and scripts) and else
from ``directory.current()`` (the running app's, see ``directory.configure``).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from applications.catalogue import Catalogue
from handover_api.contract import (
    APPLICATION_TYPES,
    CRISIS_TYPES,
    LIFE_DOMAIN_CODES,
    REFERENCE_RE,
)
from handover_api.services import applications as application_catalogue
from handover_api.services import directory as region_directory
from handover_api.services.directory import Directory

Channel = Literal["web", "sms", "whatsapp", "rest", "shell"]
Priority = Literal["normal", "urgent"]
Status = Literal["new", "claimed", "in_progress", "returned", "closed"]
Level = Literal["regional", "local"]
Sender = Literal["user", "bot"]
ContactPreference = Literal["phone", "sms", "whatsapp", "email", "chat"]
ApplicationType = Literal["bijstand", "bijzondere_bijstand", "schuldhulp", "wmo", "minimaregeling"]

assert set(ApplicationType.__args__) == set(APPLICATION_TYPES)  # type: ignore[attr-defined]

MAX_TEXT = 10_000
_MULTILINE_OK = {"\n", "\r", "\t"}


def _control_chars(value: str, *, multiline: bool) -> list[str]:
    bad = []
    for ch in value:
        if multiline and ch in _MULTILINE_OK:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029":
            bad.append(f"U+{ord(ch):04X}")
    return bad


def _check_plain_text(value: str, *, multiline: bool) -> str:
    """Refuse control characters (and lone surrogates, which cannot be stored as UTF-8)."""
    bad = _control_chars(value, multiline=multiline)
    if bad:
        raise PydanticCustomError(
            "control_characters",
            "must not contain control characters other than newline and tab (found {chars})"
            if multiline
            else "must be a single line without control characters (found {chars})",
            {"chars": ", ".join(sorted(set(bad))[:10])},
        )
    return value


def _plain_text(*, multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        return _check_plain_text(value, multiline=multiline)

    return AfterValidator(check)


# Timestamps a conversation can have: not before 2000 (nothing in this service is older) and
# not more than a day ahead (clock skew), so that converting to UTC can never overflow and a
# typo like year 9999 does not sort a case to the top forever.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_CLOCK_SKEW = timedelta(days=1)


def _aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; everything is stored and returned in UTC.

    The year is checked before any arithmetic: ``0001-01-01T00:00:00+05:00`` would overflow
    when converted to UTC.
    """
    latest = datetime.now(UTC) + MAX_CLOCK_SKEW
    if EARLIEST.year <= value.year <= latest.year:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if EARLIEST <= value <= latest:
            return value
    raise PydanticCustomError(
        "datetime_out_of_range",
        "must be between {earliest} and {latest} (now + 1 day)",
        {
            "earliest": EARLIEST.isoformat(),
            "latest": latest.replace(microsecond=0).isoformat(),
        },
    )


_SingleLine = _plain_text(multiline=False)
_MultiLine = _plain_text(multiline=True)
Line40 = Annotated[str, Field(min_length=1, max_length=40), _SingleLine]
Line50 = Annotated[str, Field(min_length=1, max_length=50), _SingleLine]
Line100 = Annotated[str, Field(min_length=1, max_length=100), _SingleLine]
Line200 = Annotated[str, Field(min_length=1, max_length=200), _SingleLine]
Line254 = Annotated[str, Field(min_length=1, max_length=254), _SingleLine]
Line1000 = Annotated[str, Field(min_length=1, max_length=1000), _SingleLine]
Text500 = Annotated[str, Field(min_length=1, max_length=500), _MultiLine]
Text1000 = Annotated[str, Field(min_length=1, max_length=1000), _MultiLine]
Text4000 = Annotated[str, Field(min_length=1, max_length=4000), _MultiLine]
Text10k = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), _MultiLine]
EventText = Annotated[str, Field(min_length=0, max_length=MAX_TEXT), _MultiLine]


UTCDatetime = Annotated[datetime, AfterValidator(_aware)]
Slug = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]

# --- validators with readable messages -------------------------------------------------------

_MUNICIPALITY_RE = re.compile(r"^GM\d{4}$")
_PHONE_STRIP_RE = re.compile(r"[\s().-]")
_PHONE_NL_RE = re.compile(r"^(?:0|\+31|0031)[1-9]\d{8}$")
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)


def _municipality_code(value: str) -> str:
    if not _MUNICIPALITY_RE.match(value):
        raise PydanticCustomError(
            "municipality_code",
            "must be a CBS municipality code: 'GM' followed by 4 digits, e.g. GM0794 (Helmond)",
        )
    return value


def _directory(info: ValidationInfo) -> Directory:
    """The region configuration to validate against: the context's, else the app's."""
    given = info.context.get("directory") if isinstance(info.context, dict) else None
    return given if isinstance(given, Directory) else region_directory.current()


def _error(kind: str, message: str) -> PydanticCustomError:
    # The message is passed as context, so braces in it are never taken as placeholders.
    return PydanticCustomError(kind, "{message}", {"message": message})


# "onbekend": the action server's crisis type when the assistant recognised a crisis but not
# which one (actions/crisis.py); refusing it would lose an urgent handover.
CRISIS_TYPE_UNKNOWN = "onbekend"
KNOWN_CRISIS_TYPES: tuple[str, ...] = (*CRISIS_TYPES, CRISIS_TYPE_UNKNOWN)

# Limits of ``application.fields`` (free-form pre-filled form data): enough for any form,
# small enough that walking, storing and rendering it is cheap and cannot recurse deeply.
FIELDS_MAX_DEPTH = 6
FIELDS_MAX_ENTRIES = 100  # keys of one object / items of one list
FIELDS_MAX_VALUES = 1000  # all values together
FIELDS_MAX_KEY = 100
FIELDS_MAX_BYTES = 20_000


def _fields_problem(value: dict[str, Any]) -> str | None:
    """What is wrong with application fields, or None. Iterative: no recursion limit."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    seen = 0
    while stack:
        node, path, depth = stack.pop()
        seen += 1
        if seen > FIELDS_MAX_VALUES:
            return f"at most {FIELDS_MAX_VALUES} values in total"
        where = f" (at {path})" if path else ""
        if isinstance(node, dict | list):
            if depth > FIELDS_MAX_DEPTH:
                return f"must be nested at most {FIELDS_MAX_DEPTH} levels deep{where}"
            if len(node) > FIELDS_MAX_ENTRIES:
                return f"at most {FIELDS_MAX_ENTRIES} keys or items per object or list{where}"
            if isinstance(node, dict):
                for key, item in node.items():
                    if not isinstance(key, str) or not 1 <= len(key) <= FIELDS_MAX_KEY:
                        return f"keys must be 1 to {FIELDS_MAX_KEY} characters{where}"
                    if _control_chars(key, multiline=False):
                        return f"keys must not contain control characters{where}"
                    stack.append((item, f"{path}.{key}" if path else key, depth + 1))
            else:
                stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(node))
        elif isinstance(node, str):
            if _control_chars(node, multiline=True):
                return f"text must not contain control characters other than newline and tab{where}"
        elif isinstance(node, float) and not math.isfinite(node):
            return f"numbers must be finite (no NaN or Infinity){where}"
        elif node is not None and not isinstance(node, bool | int | float):
            return f"values must be JSON text, numbers, booleans, null, objects or lists{where}"
    if len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > FIELDS_MAX_BYTES:
        return f"at most {FIELDS_MAX_BYTES // 1000} kB"
    return None


def _reference(value: str) -> str:
    if not REFERENCE_RE.match(value):
        raise PydanticCustomError(
            "reference_format", "must look like VD-7K3P-92 (VD-, 4 letters/digits, -, 2 digits)"
        )
    return value


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    if not _PHONE_NL_RE.match(_PHONE_STRIP_RE.sub("", value)):
        raise PydanticCustomError(
            "phone_number",
            "must be a Dutch phone number of 10 digits, e.g. 06-12345678, 040 123 4567 or "
            "+31 6 12345678",
        )
    return value


def _email(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise PydanticCustomError("email", "must be an e-mail address such as naam@example.nl")
    return value


# --- input -----------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class MunicipalityIn(_In):
    code: Annotated[str, AfterValidator(_municipality_code)]
    name: Line100

    @field_validator("code")
    @classmethod
    def _configured(cls, value: str, info: ValidationInfo) -> str:
        problem = _directory(info).municipality_error(value)
        if problem:
            raise _error("unknown_municipality", problem)
        return value

    @field_validator("name")
    @classmethod
    def _matches_code(cls, value: str, info: ValidationInfo) -> str:
        code = info.data.get("code")
        if code is None:  # the code itself was refused
            return value
        directory = _directory(info)
        if not directory.municipality_name_matches(code, value):
            municipality = directory.municipality(code)
            expected = municipality.name if municipality else "?"
            raise _error(
                "municipality_name_mismatch",
                f"is not the name of {code}; expected '{expected}'",
            )
        return value


class DestinationIn(_In):
    """A level, organisation and team that exist in the region configuration.

    Whether they serve the handover's municipality is checked by ``HandoverCreate`` (and, for
    a returned case, by the service), which know the municipality.
    """

    level: Level
    organisation: Slug
    team: Slug
    reason: Text500 | None = None

    @field_validator("organisation")
    @classmethod
    def _known_organisation(cls, value: str, info: ValidationInfo) -> str:
        problem = _directory(info).organisation_error(
            organisation=value, level=info.data.get("level")
        )
        if problem:
            raise _error("unknown_destination", problem)
        return value

    @field_validator("team")
    @classmethod
    def _known_team(cls, value: str, info: ValidationInfo) -> str:
        organisation = info.data.get("organisation")
        if organisation is None:  # the organisation itself was refused
            return value
        problem = _directory(info).team_error(organisation=organisation, team=value)
        if problem:
            raise _error("unknown_destination", problem)
        return value


class LifeDomainIn(_In):
    code: str
    evidence: Annotated[list[Line1000], Field(max_length=20)] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _known_code(cls, value: str) -> str:
        if value not in LIFE_DOMAIN_CODES:
            raise PydanticCustomError(
                "life_domain_code",
                "unknown life domain '{code}'; expected one of: {codes}",
                {"code": value[:50], "codes": ", ".join(LIFE_DOMAIN_CODES)},
            )
        return value


class CrisisIn(_In):
    type: Line50

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in KNOWN_CRISIS_TYPES:
            raise PydanticCustomError(
                "crisis_type",
                "unknown crisis type '{type}'; expected one of: {types}",
                {"type": value, "types": ", ".join(KNOWN_CRISIS_TYPES)},
            )
        return value


def _catalogue(info: ValidationInfo) -> Catalogue:
    """The field catalogue to validate against: the context's, else the app's."""
    given = info.context.get("catalogue") if isinstance(info.context, dict) else None
    return given if isinstance(given, Catalogue) else application_catalogue.current()


class ApplicationIn(_In):
    """A pre-filled application. Every field the catalogue (``data/applications.yml``) knows
    must have the stored shape of its kind (``services/applications.py``; ``null`` = skipped);
    other fields keep the generic limits. BSNs in values are stripped when the handover is
    stored, as in the summary; a key that names a BSN is refused."""

    type: ApplicationType
    fields: dict[str, Any] = Field(default_factory=dict)
    complete: StrictBool = False

    @field_validator("fields")
    @classmethod
    def _valid(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        problem = _fields_problem(value)
        if problem:
            raise _error("application_fields", f"application fields: {problem}")
        problems = application_catalogue.shape_problems(_catalogue(info), value)
        if problems:
            raise _error("application_fields", f"application fields: {'; '.join(problems)}")
        return value


class ContactIn(_In):
    name: Line200 | None = None
    phone: Annotated[Line40 | None, AfterValidator(_phone)] = None
    email: Annotated[Line254 | None, AfterValidator(_email)] = None
    preferred: ContactPreference | None = None
    best_time: Line200 | None = None

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if self.preferred in ("phone", "sms", "whatsapp") and not self.phone:
            raise PydanticCustomError(
                "contact_phone_missing",
                "contact.phone is required when the preferred channel is {preferred}",
                {"preferred": self.preferred},
            )
        if self.preferred == "email" and not self.email:
            raise PydanticCustomError(
                "contact_email_missing",
                "contact.email is required when the preferred channel is email",
            )
        if self.preferred != "chat" and not self.phone and not self.email:
            raise PydanticCustomError(
                "contact_missing",
                "give at least a phone number or an e-mail address (or preferred = chat), "
                "so the professional can reach the citizen",
            )
        return self


class ConsentIn(_In):
    given: StrictBool
    at: UTCDatetime
    text_version: Line50

    @field_validator("given")
    @classmethod
    def _must_be_given(cls, value: bool) -> bool:
        if value is not True:
            raise PydanticCustomError(
                "consent_required",
                "consent.given must be true: without the citizen's consent no handover may be "
                "made (zonder toestemming geen overdracht)",
            )
        return value


class EventIn(_In):
    event_id: Line200 | None = None
    sender: Sender
    text: EventText
    at: UTCDatetime
    intent: Line100 | None = None


class HandoverCreate(_In):
    reference: Annotated[str, AfterValidator(_reference)] | None = None
    conversation_id: Line200
    channel: Channel
    priority: Priority = "normal"
    municipality: MunicipalityIn
    destination: DestinationIn
    life_domains: Annotated[list[LifeDomainIn], Field(max_length=len(LIFE_DOMAIN_CODES))] = Field(
        default_factory=list
    )
    multi_problem: StrictBool = False
    crisis: CrisisIn | None = None
    summary: Text4000
    application: ApplicationIn | None = None
    contact: ContactIn
    consent: ConsentIn
    transcript: Annotated[list[EventIn], Field(max_length=1000)] = Field(default_factory=list)

    @field_validator("life_domains")
    @classmethod
    def _unique_domains(cls, value: list[LifeDomainIn]) -> list[LifeDomainIn]:
        codes = [d.code for d in value]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise PydanticCustomError(
                "duplicate_life_domain",
                "each life domain may occur once (duplicated: {codes})",
                {"codes": ", ".join(duplicates)},
            )
        return value

    @field_validator("destination")
    @classmethod
    def _serves_municipality(cls, value: DestinationIn, info: ValidationInfo) -> DestinationIn:
        municipality = info.data.get("municipality")
        if municipality is None:  # refused itself: its error says why
            return value
        problem = _directory(info).destination_error(
            municipality_code=municipality.code,
            level=value.level,
            organisation=value.organisation,
            team=value.team,
        )
        if problem:
            raise _error("destination_not_serving", problem)
        return value


class HandoverUpdate(_In):
    status: Status
    reason: Text1000 | None = None
    destination: DestinationIn | None = None
    # Returning a case: the professional confirms the resident agreed to share it with the new
    # organisation. Without it the new organisation sees that consent is missing, not the data.
    consent_for_destination: StrictBool = False


class NoteCreate(_In):
    text: Text10k


CallOutcome = Literal["bereikt", "niet_bereikt", "terugbellen"]
# An agreed call-back moment lies ahead: up to a year from now (not the one-day skew of
# conversation timestamps), never before 2000.
MAX_CALLBACK_AHEAD = timedelta(days=366)


def _callback_moment(value: datetime) -> datetime:
    latest = datetime.now(UTC) + MAX_CALLBACK_AHEAD
    if EARLIEST.year <= value.year <= latest.year:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if EARLIEST <= value <= latest:
            return value
    raise PydanticCustomError(
        "datetime_out_of_range",
        "must be between {earliest} and {latest} (now + 366 days)",
        {
            "earliest": EARLIEST.isoformat(),
            "latest": latest.replace(microsecond=0).isoformat(),
        },
    )


CallbackDatetime = Annotated[datetime, AfterValidator(_callback_moment)]


class AssignmentIn(_In):
    """Assign a case to a case worker (role staff) of the caller's own organisation."""

    username: Line100


class ForwardIn(_In):
    """Forward a case to another team of the same organisation (``team``: its id)."""

    team: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class CallAttemptCreate(_In):
    """One attempt to reach the resident. ``terugbellen`` needs ``callback_at``: the moment
    agreed with the resident (naive times are taken as UTC)."""

    outcome: CallOutcome
    callback_at: CallbackDatetime | None = None
    note: Text4000 | None = None

    @model_validator(mode="after")
    def _callback_needs_a_moment(self) -> CallAttemptCreate:
        if self.outcome == "terugbellen" and self.callback_at is None:
            raise PydanticCustomError(
                "callback_at_missing", "callback_at is required when the outcome is terugbellen"
            )
        if self.outcome != "terugbellen" and self.callback_at is not None:
            raise PydanticCustomError(
                "callback_at_unexpected",
                "callback_at is only given when the outcome is terugbellen",
            )
        return self


class EventsAppend(_In):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=1000)]


# --- output ----------------------------------------------------------------------------------


class MunicipalityOut(BaseModel):
    code: str
    name: str


class DestinationOut(BaseModel):
    level: Level
    organisation: str
    team: str
    reason: str | None = None

    @model_serializer(mode="wrap")
    def _drop_empty_reason(self, handler: Any) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("reason") is None:
            data.pop("reason", None)
        return data


class LifeDomainOut(BaseModel):
    code: str
    evidence: list[str]


class CrisisOut(BaseModel):
    type: str


class ApplicationOut(BaseModel):
    type: ApplicationType
    fields: dict[str, Any]
    complete: bool


class ContactOut(BaseModel):
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred: ContactPreference | None = None
    best_time: str | None = None


class ConsentOut(BaseModel):
    given: bool
    at: datetime
    text_version: str
    organisation: str = Field(description="the organisation the resident agreed to share with")
    covers_destination: bool = Field(
        description="false: the receiving organisation sees metadata only (returned case without "
        "consent for it, or consent withdrawn)"
    )
    withdrawn_at: datetime | None = None


class HandoverRef(BaseModel):
    id: uuid.UUID
    reference: str
    destination: DestinationOut
    status: Status


class HandoverLinks(BaseModel):
    self: str
    transcript: str


class EventOut(BaseModel):
    event_id: str
    sender: Sender
    text: str
    at: datetime
    intent: str | None = None


class NoteOut(BaseModel):
    id: uuid.UUID
    created_at: datetime
    author: str
    author_username: str
    text: str


class AssignedTo(BaseModel):
    """The case worker who has the case (set by claiming it, changed by reassigning)."""

    username: str
    display_name: str
    at: datetime | None = None


class CallAttemptOut(BaseModel):
    id: uuid.UUID
    at: datetime
    outcome: CallOutcome
    callback_at: datetime | None = None
    note: str | None = None
    author: str = Field(description="the case worker's display name")
    author_username: str


class HandoverOut(BaseModel):
    """A handover as in ``handover.schema.json`` plus ``links`` and the return chain, and
    (additions) who has the case and the service-level moments."""

    id: uuid.UUID
    reference: str
    status: Status
    priority: Priority
    created_at: datetime
    updated_at: datetime
    municipality: MunicipalityOut
    destination: DestinationOut
    life_domains: list[LifeDomainOut]
    multi_problem: bool
    crisis: CrisisOut | None
    summary: str
    application: ApplicationOut | None
    contact: ContactOut
    consent: ConsentOut
    conversation_id: str
    channel: Channel
    return_reason: str | None = None
    returned_from: HandoverRef | None = None
    returned_to: HandoverRef | None = None
    links: HandoverLinks
    withheld: list[str] = Field(
        default_factory=list,
        description="fields not shown because consent does not cover the receiving organisation",
    )
    assigned_to: AssignedTo | None = Field(
        default=None, description="the case worker who has the case; null while nobody has it"
    )
    claimed_at: datetime | None = Field(default=None, description="first claim")
    first_contact_at: datetime | None = Field(
        default=None, description="first call attempt that reached the resident"
    )
    claim_due_at: datetime | None = Field(
        default=None,
        description="claim before this moment or the case is escalated (the team's claim time "
        "in working hours); null: no deadline",
    )
    escalated_at: datetime | None = Field(
        default=None, description="when the case was escalated for not being claimed in time"
    )


class HandoverDetail(HandoverOut):
    notes: list[NoteOut]
    transcript: list[EventOut] = Field(description="the conversation, redacted view")
    call_attempts: list[CallAttemptOut] = Field(
        default_factory=list, description="attempts to reach the resident, oldest first"
    )


class HandoverPage(BaseModel):
    items: list[HandoverOut]
    total: int
    page: int
    page_size: int


class EventsAppended(BaseModel):
    conversation_id: str
    received: int
    created: int
    duplicates: int


class Transcript(BaseModel):
    conversation_id: str
    view: Literal["redacted", "full"]
    events: list[EventOut]
    consent_covers: bool = True


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    resource_type: str
    resource_id: str
    detail: dict[str, Any] | None = None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    page: int
    page_size: int


# --- application export (GET /handovers/{id}/application/export) ------------------------------


class ExportMetadata(BaseModel):
    """What the receiving organisation needs beside the values, in both export shapes."""

    reference: str = Field(description="the handover's reference, e.g. VD-7K3P-92")
    regeling: ApplicationType
    title: str = Field(description="the regeling's title in the catalogue")
    product: str = Field(description="the catalogue's product slug (ProductAanvraag type)")
    catalogue_version: str
    municipality: MunicipalityOut
    created_at: datetime
    complete: bool
    skipped_fields: list[str] = Field(
        description="questions the resident skipped ('weet ik niet'): the professional asks them"
    )
    not_asked_fields: list[str] = Field(
        description="questions of the regeling that the application does not hold at all"
    )


class ProductAanvraagPayment(BaseModel):
    completed: bool = False
    amount: int = 0
    public_order_ids: list[str] = Field(default_factory=list)


class ProductAanvraag(BaseModel):
    """``record.data`` as Open Formulieren's Objects API registration (legacy JSON template)
    writes it, following the community ProductAanvraag objecttype."""

    data: dict[str, Any] = Field(description="the answered form values (skipped ones left out)")
    type: str = Field(description="Type productaanvraag: the catalogue's product slug")
    bsn: Literal[""] = Field(
        default="", description="always empty: identity is established later with DigiD"
    )
    pdf_url: str = ""
    attachments: list[str] = Field(default_factory=list)
    submission_id: str = Field(description="the handover's reference")
    language_code: str = "nl"
    payment: ProductAanvraagPayment = Field(default_factory=ProductAanvraagPayment)


class ObjectRecord(BaseModel):
    """An Objects API record; names as in its API (camelCase)."""

    typeVersion: int
    data: ProductAanvraag
    startAt: date


class ObjectsApiObject(BaseModel):
    """The body of ``POST /objects`` of an Objects API (v2.2+: ``uuid`` may be given)."""

    uuid: UUID = Field(description="deterministic per handover (uuid5)")
    type: str = Field(description="URL of the ProductAanvraag objecttype")
    record: ObjectRecord


class ObjectsApiExport(BaseModel):
    format: Literal["objects_api"] = "objects_api"
    object: ObjectsApiObject
    digid_link: str | None = Field(
        description="the municipality's form with ?initial_data_reference=<object uuid>; null "
        "when none is configured"
    )
    example: bool = Field(
        description="true: the objecttype and link are example configuration, not verified "
        "with the municipality; never send such a link to a resident"
    )
    registered: Literal[False] = Field(
        default=False,
        description="always false: Voordeur does not call the Objects API, this is what would "
        "be registered",
    )
    metadata: ExportMetadata


class EnvelopeExport(BaseModel):
    format: Literal["envelope"] = "envelope"
    values: dict[str, Any] = Field(description="the application's fields, null = skipped")
    values_schema: dict[str, Any] = Field(
        description="JSON Schema (2020-12) of the values, generated from the catalogue"
    )
    metadata: ExportMetadata


ApplicationExport = Annotated[ObjectsApiExport | EnvelopeExport, Field(discriminator="format")]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"] | None = None
    migrations: Literal["ok", "behind"] | None = None


# --- messages between professional and resident (services/messaging.py) ----------------------

MAX_MESSAGE_TEXT = 1600  # Twilio's limit of one (concatenated) SMS; WhatsApp takes it too
MessageText = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_TEXT), _MultiLine]
MessageDirection = Literal["out", "in"]
MessageChannel = Literal["sms", "whatsapp", "web"]
MessageStatus = Literal[
    "queued", "sent", "delivered", "read", "undelivered", "failed", "received", "not_sent"
]


class MessageCreate(_In):
    text: MessageText = Field(
        description="the professional's message (BSNs are stripped before it is stored); on "
        "WhatsApp outside the 24-hour window the organisation's approved template goes instead"
    )


class MediaOut(BaseModel):
    id: uuid.UUID
    content_type: str
    size: int
    filename: str | None
    received_at: datetime
    message_id: uuid.UUID | None


class MessageOut(BaseModel):
    id: uuid.UUID
    direction: MessageDirection
    channel: MessageChannel
    body: str = Field(description="empty while consent does not cover the organisation")
    author: str | None = Field(description="the professional (out); null for the resident")
    author_username: str | None
    created_at: datetime
    status: MessageStatus
    status_at: datetime | None
    status_reason: str | None = Field(
        description="why it was not sent or failed: webchat, sending_off, no_phone, "
        "no_sender_number, twilio_error, twilio_unreachable"
    )
    error_code: str | None = Field(description="Twilio's ErrorCode, when it gave one")
    via_template: bool
    media: list[MediaOut] = Field(default_factory=list)


class MessagePlan(BaseModel):
    """How the next message of a professional goes out."""

    mode: Literal["text", "template", "not_sent", "refused"] = Field(
        description="text: free text through Twilio; template: WhatsApp's approved template "
        "(last resident message more than 24 hours ago); not_sent: stored, not sent (web chat "
        "or sending switched off); refused: it cannot be sent (see reason)"
    )
    reason: str | None = None
    last_inbound_at: datetime | None = None
    template_example: bool = False


class MessageThread(BaseModel):
    handover_id: uuid.UUID
    channel: str
    consent_covers: bool
    items: list[MessageOut]
    next_message: MessagePlan


class InboundMediaIn(_In):
    content_type: Annotated[str, Field(min_length=1, max_length=100)]
    filename: Annotated[str, Field(max_length=255)] | None = None
    # 10 MB files base64-encoded are ~14 M characters; larger ones are refused with a reason.
    data_base64: Annotated[str, Field(max_length=16 * 1024 * 1024)]


class InboundMessageIn(_In):
    channel: Literal["sms", "whatsapp"]
    from_phone: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")] = Field(
        description="E.164, without the whatsapp: prefix"
    )
    message_sid: Annotated[str, Field(pattern=r"^(SM|MM)[0-9a-zA-Z]{1,62}$")]
    # Not refused for control characters: the resident's text is cleaned, never bounced.
    body: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    media: Annotated[list[InboundMediaIn], Field(max_length=20)] = Field(default_factory=list)


class RefusedMediaOut(BaseModel):
    content_type: str
    reason: str = Field(description="too_many, too_large, unsupported_type or invalid_data")


class InboundMessageResult(BaseModel):
    matched: bool
    handover_id: uuid.UUID | None = None
    reference: str | None = None
    organisation_name: str | None = None
    stored_media: int = 0
    refused_media: list[RefusedMediaOut] = Field(default_factory=list)


class HandoverEventOut(BaseModel):
    """One named event of a handover's timeline (``GET /api/v1/handovers/{id}/events``)."""

    kind: str = Field(
        description="consent_given, created, claimed, contact_made, contact_failed, "
        "contact_attempted, returned, consent_withdrawn, closed, ..."
    )
    at: datetime
    actor: str = Field(description='"service:action-server", "staff:<username>" or "system"')
    actor_name: str | None = Field(default=None, description="Display name, when known")
    detail: dict[str, Any] = Field(
        default_factory=dict, description="Non-personal facts: outcome, organisation, moment"
    )
