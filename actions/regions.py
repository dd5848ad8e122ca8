"""Region configuration: municipalities, organisations and who handles which service.

Configuration is data (``data/regions/<region_id>.yml``), never code: a municipality that changes
its cafetariamodel choice (e.g. doing schuldhulp intake locally) edits YAML only. Loading is
strict (pydantic v1, unknown fields forbidden, cross references checked) so that a typo in a
team id fails at start-up, naming file and field, instead of misrouting a resident's handover.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Formatter
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, root_validator, validator

from actions.config import get_settings
from actions.datafiles import DataFileError, parse_file
from common.opening_hours import TeamCalendar, parse_hours, working_hours_text

Service = Literal[
    "information",
    "bijstand_intake",
    "bijzondere_bijstand",
    "minimaregelingen",
    "schuldhulp",
    "wmo",
    "jeugd",
    "werk",
]
SERVICES: tuple[str, ...] = get_args(Service)
Level = Literal["regional", "local"]

_GM_CODE = re.compile(r"^GM\d{4}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URL = re.compile(r"^https?://\S+$")

# Service levels we configure (not public facts): working days until a professional contacts the
# resident after a handover, when a team has no ``response_working_days`` of its own.
DEFAULT_RESPONSE_WORKING_DAYS = {"regional": 3, "local": 5}
DEFAULT_URGENT_RESPONSE_WORKING_DAYS = 1
# Working hours within which a new handover must be claimed before the handover API escalates
# it, when a team's ``handling:`` does not say (the same defaults as handover_api/services/
# directory.py; the assistant only validates them).
DEFAULT_CLAIM_WITHIN_HOURS = 4.0
DEFAULT_URGENT_CLAIM_WITHIN_HOURS = 1.0
# The list of Dutch municipalities outside the configured regions, beside the region files
# (``load_regions`` reads ``*.yml`` of the directory itself only, so it never takes it for one).
OUTSIDE_FILE = Path("outside") / "municipalities.yml"


class RegionConfigError(DataFileError):
    """A region file is invalid; ``file`` and ``field`` say where, for the person editing it."""


class _Model(BaseModel):
    class Config:
        extra = "forbid"  # a misspelt key is an error, not a silently ignored setting
        allow_mutation = False


class Source(_Model):
    """A public page a fact was checked against."""

    title: str
    url: str

    @validator("url")
    def _url_format(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value


class _Sourced(_Model):
    """Provenance: ``source:`` (one) or ``sources:`` (a list) and the date they were ``checked``."""

    sources: list[Source] = []
    checked: date | None = None

    @root_validator(pre=True)
    def _one_source(cls, values: dict[str, Any]) -> dict[str, Any]:
        if isinstance(values, dict) and "source" in values:
            values = dict(values)
            one = values.pop("source")
            values["sources"] = [one, *(values.get("sources") or [])]
        return values


ContactField = Literal["phone", "website", "address", "hours", "walk_in"]


class _Verifiable(_Sourced):
    """Data with ``verified_fields``: each listed field must have a value and a source, so that
    nothing reaches a resident as verified without a public page saying so."""

    @root_validator(skip_on_failure=True)
    def _verified_fields_have_values(cls, values: dict[str, Any]) -> dict[str, Any]:
        for field in values["verified_fields"]:
            if not values.get(field):
                raise ValueError(f"verified_fields: {field!r} has no value")
        if values["verified_fields"] and not values["sources"]:
            raise ValueError("verified_fields need a source (source: or sources:)")
        return values


class Contact(_Verifiable):
    """Contact details; ``example: true`` marks data nobody verified (must not be trusted).

    ``verified_fields`` lists fields that are real even when the rest is example data: a field
    is only listed there when a public page (``sources``) states it. ``hours`` are telephone
    hours, ``walk_in`` the opening hours of the desk (inloop / balie).
    """

    phone: str | None = None
    website: str | None = None
    address: str | None = None
    hours: str | None = None
    walk_in: str | None = None
    example: bool = True
    verified_fields: list[ContactField] = []

    def is_example(self, field: str) -> bool:
        """Whether the value of ``field`` is example data."""
        return self.example and field not in self.verified_fields

    def verified(self, field: str) -> str | None:
        """The value of ``field`` when it is verified, else None (never an example value)."""
        value = getattr(self, field)
        return None if not value or self.is_example(field) else value


class TeamRef(_Model):
    organisation: str
    team: str


class Handling(_Model):
    """When a team works on handovers (``handling:``; our configuration, not a public fact).

    ``hours`` its working hours ("ma-vr 8.30-17.00"; else the team's ``contact.hours``, else
    ma-vr 9.00-17.00), ``closed_days`` its own closing days on top of the Dutch public
    holidays, ``claim_within_hours`` / ``urgent_...`` the working hours within which the
    handover API expects a new handover to be claimed. The same rules as the handover API's
    ``_HandlingIn`` (handover_api/services/directory.py).
    """

    hours: str | None = None
    closed_days: list[date] = []
    claim_within_hours: float = Field(DEFAULT_CLAIM_WITHIN_HOURS, gt=0, le=200)
    urgent_claim_within_hours: float = Field(DEFAULT_URGENT_CLAIM_WITHIN_HOURS, gt=0, le=40)

    @validator("hours")
    def _readable(cls, value: str | None) -> str | None:
        if value is not None and parse_hours(value) is None:
            raise ValueError(f"cannot read hours {value!r}; write e.g. 'ma-vr 9.00-17.00'")
        return value


class Team(_Model):
    id: str
    name: str
    services: list[Service] = []  # services this team handles for its organisation
    contact: Contact | None = None
    # Our service level (configuration, not a public fact): working days until a professional
    # of this team contacts the resident after a handover; None = the default for its level.
    response_working_days: int | None = Field(None, ge=1, le=20)
    urgent_response_working_days: int | None = Field(None, ge=0, le=5)
    handling: Handling | None = None  # when the team works on handovers (see Handling)
    # Where new handovers and escalations are announced: read and validated by the handover
    # API only (handover_api/services/directory.py); passed through here.
    notify: dict[str, Any] | None = None


class Successor(_Sourced):
    """Public pages name another organisation for this role today (see ``Organisation``)."""

    name: str
    note: str | None = None


class Organisation(_Sourced):
    """An organisation; ``sources``/``checked`` say where its name and role were checked.

    ``name_in_sources``: what the 2011-2014 source documents called it when ``name`` is
    today's name. ``successor``: public pages name another organisation for this role today,
    but the rename is still pending (``name`` is the source documents' name).
    """

    id: str
    name: str
    level: Level
    kind: Literal["werk_inkomen", "gemeente", "sociaal_team", "werkgeversservice", "sw_bedrijf"] = (
        "gemeente"
    )
    serves: list[str] = []  # municipalities served, also ones outside this configuration
    teams: list[Team] = Field(..., min_items=1)
    contact: Contact | None = None
    name_in_sources: str | None = None
    successor: Successor | None = None
    # Read by the handover API only (professional's WhatsApp message after 24 hours).
    whatsapp_template_content_sid: str | None = None
    whatsapp_template_example: bool = True
    # Read and validated by the handover API only (handover_api/services/directory.py: the
    # export of handovers to the organisation's Klantinteracties API); passed through here.
    export: dict[str, Any] | None = None

    @validator("id")
    def _id_format(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("lowercase letters, digits, '-' and '_' only")
        return value

    @validator("teams")
    def _unique_teams(cls, teams: list[Team]) -> list[Team]:
        ids = [t.id for t in teams]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate team id in {ids}")
        return teams

    def team(self, team_id: str) -> Team:
        """The team with this id; KeyError if the organisation has none."""
        for team in self.teams:
            if team.id == team_id:
                return team
        raise KeyError(f"{self.id}/{team_id}")


ShelterField = Literal["centrumgemeente", "name", "phone", "website", "address", "hours", "walk_in"]


class NightShelter(_Verifiable):
    """Where someone who is homeless tonight goes: the centrumgemeente for maatschappelijke
    opvang and its central access point. Only ``verified_fields`` are ever shown to residents."""

    centrumgemeente: str
    name: str | None = None  # the access point or provider (e.g. a nachtopvang)
    phone: str | None = None
    website: str | None = None
    address: str | None = None
    hours: str | None = None
    walk_in: str | None = None
    note: str | None = None
    example: bool = True
    verified_fields: list[ShelterField] = []

    def verified(self, field: str) -> str | None:
        value = getattr(self, field)
        return value if value and field in self.verified_fields else None


_HTTPS = re.compile(r"^https://[^\s/?#]+\S*$")
# Placeholders of a DigiD continuation link: the object's uuid (Open Formulieren's
# ``initial_data_reference``, required) and the catalogue's product slug.
_DIGID_PLACEHOLDERS = frozenset({"uuid", "product"})


class ObjectsApi(_Model):
    """Where the municipality registers applications: a ProductAanvraag objecttype."""

    objecttype: str  # URL of the objecttype in its Objecttypes API
    type_version: int = Field(..., ge=1, le=32767)  # Objects API record.typeVersion

    @validator("objecttype")
    def _https(cls, value: str) -> str:
        if not _HTTPS.match(value):
            raise ValueError(f"not an https URL: {value!r}")
        return value


class Aanvraag(_Sourced):
    """How the municipality continues a pre-filled application (read by the handover API's
    export, docs/applications.md). ``example: true`` (the default) marks configuration nobody
    verified with the municipality; ``example: false`` needs a source."""

    objects_api: ObjectsApi
    digid_link: str | None = None  # Open Formulieren form URL with {uuid} (and {product})
    example: bool = True

    @validator("digid_link")
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            names = [name for _, name, _, _ in Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(f"not a valid template: {exc}") from exc
        unknown = sorted(set(names) - _DIGID_PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholder(s) {unknown}; use {{uuid}} and {{product}}")
        if "uuid" not in names:
            raise ValueError("must contain {uuid} (the initial_data_reference)")
        if not _HTTPS.match(value.format(uuid="0", product="p")):
            raise ValueError(f"not an https URL: {value!r}")
        return value

    @root_validator(skip_on_failure=True)
    def _verified_needs_a_source(cls, values: dict[str, Any]) -> dict[str, Any]:
        if not values["example"] and not values["sources"]:
            raise ValueError("example: false needs a source (source: or sources:)")
        return values


class Municipality(_Model):
    code: str
    name: str
    region_id: str = ""  # filled in from the file's region
    places: list[str] = Field(..., min_items=1)
    aliases: list[str] = []
    postcode_ranges: list[tuple[int, int]] = []
    local_team: TeamRef
    local_teams: dict[Service, TeamRef] = {}  # per-service local destination, else local_team
    services: dict[Service, Level]
    contact: Contact
    night_shelter: NightShelter | None = None  # when it differs from the region's
    aanvraag: Aanvraag | None = None  # where pre-filled applications go (handover API export)

    @validator("code")
    def _code_format(cls, value: str) -> str:
        if not _GM_CODE.match(value):
            raise ValueError(f"not a CBS municipality code (GM + 4 digits): {value!r}")
        return value

    @validator("services")
    def _all_services(cls, services: dict[str, str]) -> dict[str, str]:
        missing = [s for s in SERVICES if s not in services]
        if missing:
            raise ValueError(f"missing service(s): {', '.join(missing)}")
        return services

    @validator("postcode_ranges", each_item=True)
    def _range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1000 <= low <= high <= 9999:
            raise ValueError(f"bad 4-digit postcode range {value}")
        return value

    @root_validator(skip_on_failure=True)
    def _local_teams_are_local(cls, values: dict[str, Any]) -> dict[str, Any]:
        for service in values["local_teams"]:
            if values["services"].get(service) != "local":
                raise ValueError(f"local_teams.{service}: service is not configured 'local'")
        return values

    @validator("contact")
    def _reachable(cls, contact: Contact) -> Contact:
        if not contact.phone or not contact.website:
            raise ValueError("a municipality needs a phone number and a website")
        return contact


class Region(_Sourced):
    id: str
    name: str
    regional_organisation: str
    employer_service: TeamRef
    sheltered_work: str | None = None  # sw-bedrijf organisation id (beschut werk)
    youth_desk: TeamRef | None = None  # e.g. a Jongerenloket for people under 27
    night_shelter: NightShelter | None = None  # maatschappelijke opvang route (acute dakloosheid)
    municipalities: list[str] = []  # CBS codes, filled in from the file


class _RegionFile(_Model):
    postcode_ranges_verified: bool
    checked: date | None = None  # when the file as a whole was last checked
    region: Region
    organisations: list[Organisation] = []
    municipalities: list[Municipality] = Field(..., min_items=1)


class _OutsideFile(_Sourced):
    """``outside/municipalities.yml``: every current Dutch municipality, for recognising a place
    outside the configured regions ("ik woon in Amsterdam")."""

    reference_date: date  # the municipal division the list describes (1 January of a year)
    list_verified: bool  # whether the list was compared with the CBS table itself
    municipalities: list[str] = Field(..., min_items=300)
    aliases: dict[str, str] = {}  # other spellings -> municipality ("Den Haag")
    places: dict[str, str] = {}  # large places that are not a municipality's name -> municipality
    common_words: list[str] = []  # names that are also ordinary words: need a location cue

    @root_validator(skip_on_failure=True)
    def _targets_exist(cls, values: dict[str, Any]) -> dict[str, Any]:
        names = set(values["municipalities"])
        if len(names) != len(values["municipalities"]):
            raise ValueError("municipalities: duplicate name")
        for kind in ("aliases", "places"):
            for key, target in values[kind].items():
                if target not in names:
                    raise ValueError(f"{kind}.{key}: {target!r} is not in municipalities")
        return values


@dataclass(frozen=True)
class ContactDetails:
    """Verified contact details only: a field nobody verified is None."""

    name: str
    phone: str | None = None
    website: str | None = None
    address: str | None = None
    hours: str | None = None
    walk_in: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.phone, self.website, self.address, self.hours, self.walk_in))


@dataclass(frozen=True)
class ShelterRoute:
    """The verified part of a night shelter / maatschappelijke opvang route."""

    centrumgemeente: str | None
    name: str | None = None
    phone: str | None = None
    website: str | None = None
    address: str | None = None
    hours: str | None = None
    walk_in: str | None = None


@dataclass(frozen=True)
class Destination:
    """Where a service for a municipality is handled (the handover contract's destination)."""

    level: str
    organisation: str
    team: str
    organisation_name: str
    team_name: str

    @property
    def label(self) -> str:
        """The name a resident is told: the team's name (written to stand on its own)."""
        return self.team_name or self.organisation_name


def normalise(text: str) -> str:
    """Lowercase, without diacritics and punctuation, single spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


# Place names that are also ordinary Dutch words ("met vriendelijke groet"): they only count
# when the message is just the name or a location word ("in", "uit", ...) precedes it.
_COMMON_WORD_PLACES = frozenset({"groet", "handel", "tempel", "graft", "noordeinde", "bergen"})
_LOCATION_CUES = frozenset(
    {"in", "uit", "te", "bij", "naar", "gemeente", "woonplaats", "woon", "plaats", "dorp"}
)
_POSTCODE = re.compile(r"\b([1-9]\d{3})\s?([a-z]{2})\b")
_BARE_POSTCODE = re.compile(r"^(?:postcode\s*)?([1-9]\d{3})$")


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two letters counts as one typo)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class RegionConfig:
    """All configured regions, organisations and municipalities, with look-ups."""

    def __init__(
        self,
        regions: dict[str, Region],
        organisations: dict[str, Organisation],
        municipalities: list[Municipality],
        outside: _OutsideFile | None = None,
    ) -> None:
        self.regions = regions
        self.organisations = organisations
        self.municipalities = municipalities
        self._by_code = {m.code: m for m in municipalities}
        self._names: dict[str, str] = {}  # normalised name/place/alias -> CBS code
        for m in municipalities:
            for name in (m.name, *m.places, *m.aliases):
                self._names[normalise(name)] = m.code
        # normalised municipality/alias/place outside the regions -> proper municipality name
        self._outside: dict[str, str] = {}
        self._outside_common: frozenset[str] = frozenset()
        if outside is not None:
            entries = [
                *((n, n) for n in outside.municipalities),
                *outside.aliases.items(),
                *outside.places.items(),
            ]
            for name, municipality in entries:
                key = normalise(name)
                if key and key not in self._names:  # a configured place is never "outside"
                    self._outside[key] = municipality
            self._outside_common = frozenset(normalise(w) for w in outside.common_words)

    def municipality(self, code: str) -> Municipality:
        """The municipality with this CBS code ('GM0794'); KeyError if not configured."""
        return self._by_code[code]

    def organisation(self, org_id: str) -> Organisation:
        return self.organisations[org_id]

    def region(self, region_id: str) -> Region:
        return self.regions[region_id]

    def team(self, ref: TeamRef) -> Team:
        return self.organisations[ref.organisation].team(ref.team)

    def destination_for_team(self, org_id: str, team_id: str) -> Destination:
        org = self.organisations[org_id]
        return Destination(org.level, org.id, team_id, org.name, org.team(team_id).name)

    def destination_for(self, municipality_code: str, service: str) -> Destination:
        """Who handles ``service`` for this municipality, following its configured level.

        Regional: the region's work & income organisation, the team that lists the service
        (else its first team). Local: the per-service local team, else the municipality's
        local team.
        """
        if service not in SERVICES:
            raise KeyError(f"unknown service {service!r}")
        municipality = self._by_code[municipality_code]
        if municipality.services[service] == "local":
            ref = municipality.local_teams.get(service) or municipality.local_team  # type: ignore
            return self.destination_for_team(ref.organisation, ref.team)
        org = self.organisations[self.regions[municipality.region_id].regional_organisation]
        team = next((t for t in org.teams if service in t.services), org.teams[0])
        return Destination("regional", org.id, team.id, org.name, team.name)

    # --- what a resident is told when a conversation ends (verified data only) ---

    def municipality_contact(self, municipality_code: str) -> ContactDetails:
        """The municipality's own verified phone, website, address and hours (else None each)."""
        m = self._by_code[municipality_code]
        return _details(f"gemeente {m.name}", m.contact)

    def work_income_contact(self, municipality_code: str) -> ContactDetails | None:
        """Verified contact of whoever handles work & income (bijstand) for this municipality:
        the receiving team's contact, completed from its organisation's. None when nothing
        about it is verified."""
        dest = self.destination_for(municipality_code, "bijstand_intake")
        org = self.organisations[dest.organisation]
        team = org.team(dest.team)
        merged = {
            field: (team.contact.verified(field) if team.contact else None)
            or (org.contact.verified(field) if org.contact else None)
            for field in ("phone", "website", "address", "hours", "walk_in")
        }
        details = ContactDetails(name=org.name, **merged)
        return None if details.empty else details

    def response_working_days(self, org_id: str, team_id: str, *, urgent: bool = False) -> int:
        """Working days until a professional of this team contacts the resident after a
        handover: the team's configured service level, else the default for its level
        (regional 3, local 5; urgent 1). Our configuration, not a public fact."""
        org = self.organisations[org_id]
        team = org.team(team_id)
        if urgent:
            if team.urgent_response_working_days is not None:
                return team.urgent_response_working_days
            return DEFAULT_URGENT_RESPONSE_WORKING_DAYS
        if team.response_working_days is not None:
            return team.response_working_days
        return DEFAULT_RESPONSE_WORKING_DAYS[org.level]

    def team_hours(self, org_id: str, team_id: str) -> str | None:
        """The team's telephone hours when a public page states them (else its organisation's
        verified hours, else None): example hours are never returned."""
        org = self.organisations[org_id]
        team = org.team(team_id)
        return (team.contact.verified("hours") if team.contact else None) or (
            org.contact.verified("hours") if org.contact else None
        )

    def team_calendar(self, org_id: str, team_id: str) -> TeamCalendar:
        """When the team works on handovers: its ``handling.hours``, else its ``contact.hours``
        (read as configuration, also when it is example data: it only times what we say and
        is never shown), else ma-vr 9.00-17.00; minus the Dutch public holidays and its
        ``handling.closed_days``. The same calendar as the handover API's
        (``_TeamIn.to_handling`` in handover_api/services/directory.py)."""
        team = self.organisations[org_id].team(team_id)
        handling = team.handling or Handling()
        hours = working_hours_text(handling.hours, team.contact.hours if team.contact else None)
        return TeamCalendar.of(hours, handling.closed_days)

    def night_shelter(self, municipality_code: str) -> ShelterRoute | None:
        """The verified night shelter / maatschappelijke opvang route for acute homelessness
        in this municipality (its own, else its region's), or None when nothing that would
        get someone there tonight (where, or how to reach it) is verified."""
        m = self._by_code[municipality_code]
        shelter = m.night_shelter or self.regions[m.region_id].night_shelter
        if shelter is None:
            return None
        route = ShelterRoute(
            **{
                f: shelter.verified(f)
                for f in ("centrumgemeente", "name", "phone", "website", "address", "hours")
            },
            walk_in=shelter.verified("walk_in"),
        )
        reachable = route.phone or route.address or route.website
        return route if (route.name or route.centrumgemeente) and reachable else None

    def outside_place(self, text: str | None) -> str | None:
        """The proper name of the Dutch municipality the text names when it lies outside the
        configured regions ('ik woon in Amsterdam' -> 'Amsterdam', 'Zaandam' -> 'Zaanstad',
        'Den Haag' -> "'s-Gravenhage"), else None (also for a configured place: 'Helmond').

        Names that are also ordinary words ('Best', 'Buren') count only when the message is
        just the name or a location word ('in', 'uit', ...) precedes them.
        """
        norm = normalise(text or "")
        if not norm or not self._outside or self.find_municipality(norm) is not None:
            return None
        words = norm.split()
        best: tuple[int, int, str] | None = None
        for name, municipality in self._outside.items():
            size = len(name.split())
            for start in range(len(words) - size + 1):
                if " ".join(words[start : start + size]) != name:
                    continue
                if name in self._outside_common and not (
                    len(words) <= 2 or (start > 0 and words[start - 1] in _LOCATION_CUES)
                ):
                    continue
                key = (start, -len(name), municipality)
                if best is None or key < best:
                    best = key
                break
        return best[2] if best else None

    def outdated_organisations(self) -> list[Organisation]:
        """Organisations public pages name differently today (a rename still to do)."""
        return [org for org in self.organisations.values() if org.successor is not None]

    def find_municipality(self, text: str | None) -> Municipality | None:
        """The municipality a resident means in free text, or None.

        Tries, in order: a postcode ('5708 AB', '5708ab', or just '5708'), an exact name,
        place or alias (the earliest in the text, the longest at one position, so that
        'Mierlo-Hout' is Helmond and 'Helmond-Noord' is Helmond), then a light typo match on
        the words after 'in'/'uit'/'te' or on a short message.
        """
        norm = normalise(text or "")
        if not norm:
            return None
        return self._by_postcode(norm) or self._by_name(norm) or self._by_typo(norm)

    def _by_postcode(self, norm: str) -> Municipality | None:
        numbers = [int(m.group(1)) for m in _POSTCODE.finditer(norm)]
        bare = _BARE_POSTCODE.match(norm)
        if bare:
            numbers.append(int(bare.group(1)))
        for number in numbers:
            for m in self.municipalities:
                if any(low <= number <= high for low, high in m.postcode_ranges):
                    return m
        return None

    def _by_name(self, norm: str) -> Municipality | None:
        words = norm.split()
        best: tuple[int, int, str] | None = None
        for name, code in self._names.items():
            size = len(name.split())
            for start in range(len(words) - size + 1):
                if " ".join(words[start : start + size]) != name:
                    continue
                if name in _COMMON_WORD_PLACES and not (
                    len(words) <= 2 or (start > 0 and words[start - 1] in _LOCATION_CUES)
                ):
                    continue
                key = (start, -len(name), code)
                if best is None or key < best:
                    best = key
                break
        return self._by_code[best[2]] if best else None

    def _by_typo(self, norm: str) -> Municipality | None:
        words = norm.split()
        starts = [i + 1 for i, w in enumerate(words[:-1]) if w in _LOCATION_CUES]
        if len(words) <= 3:
            starts.append(0)
        best: tuple[int, str] | None = None
        for start in starts:
            for size in (1, 2, 3):
                candidate = " ".join(words[start : start + size])
                if start + size > len(words):
                    break
                for name, code in self._names.items():
                    if len(name) < 5 or name in _COMMON_WORD_PLACES or name[0] != candidate[0]:
                        continue
                    allowed = 1 if len(name) < 8 else 2
                    distance = _edit_distance(candidate, name)
                    if distance <= allowed and (best is None or distance < best[0]):
                        best = (distance, code)
        return self._by_code[best[1]] if best else None


def _details(name: str, contact: Contact | None) -> ContactDetails:
    if contact is None:
        return ContactDetails(name=name)
    return ContactDetails(
        name=name,
        **{f: contact.verified(f) for f in ("phone", "website", "address", "hours", "walk_in")},
    )


def _load_file(path: Path) -> _RegionFile:
    parsed = parse_file(path, _RegionFile, RegionConfigError)
    if parsed.region.id != path.stem:
        raise RegionConfigError(path.name, "region.id", f"must equal the file name {path.stem!r}")
    return parsed


def _check_ref(file: str, field: str, ref: TeamRef, orgs: dict[str, Organisation]) -> None:
    if ref.organisation not in orgs:
        raise RegionConfigError(file, f"{field}.organisation", f"unknown {ref.organisation!r}")
    try:
        orgs[ref.organisation].team(ref.team)
    except KeyError:
        raise RegionConfigError(
            file, f"{field}.team", f"organisation {ref.organisation!r} has no team {ref.team!r}"
        ) from None


def _build(
    files: list[tuple[str, _RegionFile]], outside: _OutsideFile | None = None
) -> RegionConfig:
    """Cross-file checks: unique ids, resolvable references, no place or postcode claimed twice."""
    orgs: dict[str, Organisation] = {}
    for file, parsed in files:
        for i, org in enumerate(parsed.organisations):
            if org.id in orgs:
                raise RegionConfigError(file, f"organisations[{i}].id", f"duplicate {org.id!r}")
            orgs[org.id] = org
    regions: dict[str, Region] = {}
    municipalities: list[Municipality] = []
    owner_of_name: dict[str, str] = {}
    ranges: list[tuple[int, int, str]] = []
    for file, parsed in files:
        region = parsed.region
        if region.regional_organisation not in orgs:
            raise RegionConfigError(
                file, "region.regional_organisation", f"unknown {region.regional_organisation!r}"
            )
        if region.sheltered_work and region.sheltered_work not in orgs:
            raise RegionConfigError(file, "region.sheltered_work", "unknown organisation")
        _check_ref(file, "region.employer_service", region.employer_service, orgs)
        if region.youth_desk:
            _check_ref(file, "region.youth_desk", region.youth_desk, orgs)
        codes = []
        for i, m in enumerate(parsed.municipalities):
            field = f"municipalities[{i}]"
            if m.code in {x.code for x in municipalities}:
                raise RegionConfigError(file, f"{field}.code", f"duplicate {m.code}")
            _check_ref(file, f"{field}.local_team", m.local_team, orgs)
            for service, ref in m.local_teams.items():
                _check_ref(file, f"{field}.local_teams.{service}", ref, orgs)
            for kind in ("places", "aliases"):
                for j, name in enumerate(getattr(m, kind)):
                    key = normalise(name)
                    other = owner_of_name.get(key)
                    if other and other != m.code:
                        raise RegionConfigError(
                            file, f"{field}.{kind}[{j}]", f"{name!r} already belongs to {other}"
                        )
                    owner_of_name[key] = m.code
            key = normalise(m.name)
            if owner_of_name.get(key, m.code) != m.code:
                raise RegionConfigError(file, f"{field}.name", f"{m.name!r} is used elsewhere")
            owner_of_name[key] = m.code
            for j, (low, high) in enumerate(m.postcode_ranges):
                for o_low, o_high, o_code in ranges:
                    if low <= o_high and o_low <= high:
                        raise RegionConfigError(
                            file, f"{field}.postcode_ranges[{j}]", f"overlaps range of {o_code}"
                        )
                ranges.append((low, high, m.code))
            municipalities.append(m.copy(update={"region_id": region.id}))
            codes.append(m.code)
        if region.id in regions:
            raise RegionConfigError(file, "region.id", f"duplicate region {region.id!r}")
        regions[region.id] = region.copy(update={"municipalities": codes})
    return RegionConfig(regions, orgs, municipalities, outside)


_CACHE: dict[Path, RegionConfig] = {}


def default_regions_dir() -> Path:
    """``$VOORDEUR_DATA_DIR/regions``, default ``<repo>/data/regions`` (``actions.config``)."""
    return get_settings().regions_dir


def load_regions(directory: os.PathLike[str] | str | None = None) -> RegionConfig:
    """Load and validate every ``*.yml`` in ``directory``; cached per resolved path.

    ``directory/outside/municipalities.yml`` (all Dutch municipalities), when present, is
    read too, for ``RegionConfig.outside_place``.

    Raises RegionConfigError (file + field) on any invalid or inconsistent configuration.
    """
    path = Path(directory) if directory is not None else default_regions_dir()
    path = path.resolve()
    if path not in _CACHE:
        files = sorted(path.glob("*.yml"))
        if not files:
            raise RegionConfigError(str(path), "(directory)", "no region files (*.yml)")
        outside_path = path / OUTSIDE_FILE
        outside = (
            parse_file(outside_path, _OutsideFile, RegionConfigError)
            if outside_path.is_file()
            else None
        )
        _CACHE[path] = _build([(f.name, _load_file(f)) for f in files], outside)
    return _CACHE[path]


def clear_cache() -> None:
    """Forget loaded configurations (tests, or a reload after editing YAML)."""
    _CACHE.clear()
