"""Request and response bodies (pydantic v2).

Input is validated, never rewritten: nothing is stripped or escaped (templates escape on
output), but lengths are limited and control characters are refused.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from handover_api.contract import APPLICATION_TYPES, LIFE_DOMAIN_CODES, REFERENCE_RE

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


def _single_line(value: str) -> str:
    bad = _control_chars(value, multiline=False)
    if bad:
        raise PydanticCustomError(
            "control_characters",
            "must be a single line without control characters (found {chars})",
            {"chars": ", ".join(sorted(set(bad)))},
        )
    return value


def _multi_line(value: str) -> str:
    bad = _control_chars(value, multiline=True)
    if bad:
        raise PydanticCustomError(
            "control_characters",
            "must not contain control characters other than newline and tab (found {chars})",
            {"chars": ", ".join(sorted(set(bad)))},
        )
    return value


def _aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; everything is stored and returned in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_SingleLine = AfterValidator(_single_line)
_MultiLine = AfterValidator(_multi_line)
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


class DestinationIn(_In):
    level: Level
    organisation: Slug
    team: Slug
    reason: Text500 | None = None


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


class ApplicationIn(_In):
    type: ApplicationType
    fields: dict[str, Any] = Field(default_factory=dict)
    complete: bool = False

    @field_validator("fields")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        import json

        if len(json.dumps(value, default=str)) > 20_000:
            raise PydanticCustomError("too_large", "application fields must be at most 20 kB")
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
    given: bool
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
    multi_problem: bool = False
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


class HandoverUpdate(_In):
    status: Status
    reason: Text1000 | None = None
    destination: DestinationIn | None = None


class NoteCreate(_In):
    text: Text10k


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


class HandoverOut(BaseModel):
    """A handover as in ``handover.schema.json`` plus ``links`` and the return chain."""

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


class HandoverDetail(HandoverOut):
    notes: list[NoteOut]
    transcript: list[EventOut] = Field(description="the conversation, redacted view")


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


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"] | None = None
