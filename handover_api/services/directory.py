"""The region configuration as the handover API sees it: who may receive a handover.

The action server routes a conversation with ``actions/regions.py``; the API must not trust
that routing blindly (a bug or a forged request could address a case to an organisation that
does not exist, or to one that does not serve the resident's municipality), and staff need
the same configuration to return a case to the other level. The API does not import
``actions`` (other process, pydantic 1), so it reads the same YAML files itself, keeping only
what it needs and ignoring the keys it does not use (the action server validates those).

1. ``load_directory(data_dir)`` reads ``data_dir / "regions" / *.yml`` once per resolved path
   (``functools.lru_cache``); a malformed file raises ``DirectoryError`` naming file and field.
2. ``Directory.municipality(code)`` / ``Directory.organisation(org_id)`` look things up.
3. ``Directory.destination_error(...)`` says in one English sentence why a destination is not
   acceptable for a municipality, or returns None.
4. ``Directory.return_targets(...)`` lists the teams of the other level a case may be
   returned to; ``Directory.display_name(...)`` names a team for staff pages.
5. ``Directory.response_working_days(...)`` is the configured service level of a receiving
   team (working days until a professional contacts the resident: our configuration, not a
   public fact); ``Organisation.sources``/``checked`` say where its name was checked.
6. ``Municipality.aanvraag`` is the optional ``aanvraag:`` block: where the municipality
   registers pre-filled applications (an Objects API objecttype) and the Open Formulieren link
   with which the resident continues behind DigiD (``services/application_export.py``). It is
   ``example: true`` until someone verified it against the municipality itself.
7. ``Organisation.export`` is the optional ``export:`` block of an organisation: the exporter
   (``none`` | ``klantinteracties``) that sends its handovers to its own systems
   (``handover_api/export``, ``docs/klantinteracties-export.md``); None when absent or ``none``.

The files also carry contact data, night-shelter routes and provenance for the action server
(``actions/regions.py`` validates those strictly); ``data/regions/outside/`` (all Dutch
municipalities) is not a region file and is not read here.

``configure(data_dir)`` (called by the app factory) and ``current()`` give request validation
(``handover_api/schemas.py``) the directory of the running app without passing it around.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from string import Formatter
from typing import Literal
from urllib.parse import quote, urlsplit

import yaml  # type: ignore[import-untyped]  # no types-PyYAML in .venv-api
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.opening_hours import DEFAULT_HOURS_TEXT, TeamCalendar, parse_hours, working_hours_text

Level = Literal["regional", "local"]
LEVELS: tuple[str, ...] = ("regional", "local")

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_GM_CODE_RE = re.compile(r"^GM\d{4}$")
# Words that do not make two names different ("de afdeling X van Y" vs "Afdeling X gemeente Y").
_FILLER_WORDS = frozenset({"de", "het", "een", "van", "en", "the", "of", "gemeente"})
# The only service a municipal contact centre (KCC) is routed for: it informs, it does not
# take over a case, so it is not offered as a return target.
_INFORMATION = "information"
# Service levels (working days until a professional contacts the resident) for a team that has
# none configured: the same defaults as actions/regions.py.
DEFAULT_RESPONSE_WORKING_DAYS: dict[str, int] = {"regional": 3, "local": 5}
DEFAULT_URGENT_RESPONSE_WORKING_DAYS = 1


class DirectoryError(Exception):
    """A region file is malformed; ``file`` and ``field`` say where.

    Deliberately not a ``ValueError``: it is raised while validating requests, where pydantic
    would turn a ValueError into a 422 that blames the client for the server's configuration.
    """

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file = file
        self.field = field
        self.message = message


# --- the public, immutable view ---------------------------------------------------------------


# Working hours within which a new handover must be claimed before it is escalated, when a
# team's ``handling:`` block does not say (the example: 4 hours, urgent 1 hour).
DEFAULT_CLAIM_WITHIN_HOURS = 4.0
DEFAULT_URGENT_CLAIM_WITHIN_HOURS = 1.0


@dataclass(frozen=True)
class NotifyConfig:
    """A team's ``notify:`` block: where a new handover and an escalation are announced.

    ``channel`` ``email``: ``to`` and ``escalate_to`` are addresses (sent through the SMTP
    server of the settings); ``webhook``: ``url`` and ``escalate_url`` receive a signed POST
    (HMAC-SHA256 with the secret in the environment variable ``secret_env``). ``example``:
    placeholder addresses nobody checked with the team; never sent to, except on a local run
    that catches every message (``VOORDEUR_NOTIFY_EXAMPLES``).
    """

    channel: Literal["email", "webhook"]
    to: tuple[str, ...] = ()
    escalate_to: tuple[str, ...] = ()
    url: str | None = None
    escalate_url: str | None = None
    secret_env: str | None = None
    example: bool = True

    def destination(self, kind: str) -> tuple[str, ...]:
        """The addresses (or the URL) a notification of ``kind`` (new | escalation) goes to;
        empty when the team configured none for it."""
        if self.channel == "email":
            return self.escalate_to if kind == "escalation" else self.to
        url = self.escalate_url if kind == "escalation" else self.url
        return (url,) if url else ()


@dataclass(frozen=True)
class Handling:
    """When and how fast a team picks up handovers (``handling:``; our configuration).

    ``hours`` the team's working hours ("ma-vr 9.00-17.00"), ``closed_days`` its own closing
    days on top of the Dutch public holidays, ``claim_within_hours`` / ``urgent_...`` the
    working hours after which an unclaimed handover is escalated.
    """

    hours: str = DEFAULT_HOURS_TEXT
    closed_days: tuple[date, ...] = ()
    claim_within_hours: float = DEFAULT_CLAIM_WITHIN_HOURS
    urgent_claim_within_hours: float = DEFAULT_URGENT_CLAIM_WITHIN_HOURS

    @functools.cached_property
    def calendar(self) -> TeamCalendar:
        return TeamCalendar.of(self.hours, self.closed_days)


DEFAULT_HANDLING = Handling()


@dataclass(frozen=True)
class Team:
    id: str
    name: str
    response_working_days: int | None = None  # configured service level, None = default
    urgent_response_working_days: int | None = None
    handling: Handling = DEFAULT_HANDLING
    notify: NotifyConfig | None = None


@dataclass(frozen=True)
class Source:
    """A public page a fact was checked against."""

    title: str
    url: str


@dataclass(frozen=True)
class TeamRef:
    """A team of an organisation, as the configuration refers to it."""

    organisation: str
    team: str


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    level: Level
    teams: dict[str, Team]
    serves: tuple[str, ...] = ()  # municipality names, also ones outside this configuration
    region: str = ""  # id of the region whose file defines it
    sources: tuple[Source, ...] = ()  # where its name and role were checked
    checked: date | None = None
    name_in_sources: str | None = None  # what the 2011-2014 source documents called it
    successor_name: str | None = None  # public pages name this organisation so today
    # The approved WhatsApp template (Twilio ContentSid, variables {{1}} organisation name and
    # {{2}} reference) a professional's message goes as outside WhatsApp's 24-hour window;
    # ``example``: a placeholder nobody registered with Meta (never used in production).
    whatsapp_template_content_sid: str | None = None
    whatsapp_template_example: bool = True
    # Where its handovers are exported (``export:``; ``handover_api/export``); None: nowhere.
    export: ExportConfig | None = None


@dataclass(frozen=True)
class ExportConfig:
    """An organisation's ``export:`` block: which exporter sends its handovers where.

    ``kind`` names the exporter (``handover_api/export``: ``none`` or ``klantinteracties``);
    ``token_env`` is the NAME of the environment variable holding the API token (never the
    token itself); ``team_actor_identifier`` is the ``actoridentificator.objectId`` of the
    actor (organisatorische eenheid) that receives the interne taak, ``team_actors`` the same
    per team id. ``example`` is true while nobody checked these against the organisation: an
    example configuration is never exported to.
    """

    kind: str = "none"
    base_url: str | None = None
    token_env: str | None = None
    team_actor_identifier: str | None = None
    team_actor_register: str | None = None
    team_actors: tuple[tuple[str, str], ...] = ()
    kanalen: tuple[tuple[str, str], ...] = ()
    example: bool = True

    def team_actor_for(self, team: str) -> str | None:
        return dict(self.team_actors).get(team, self.team_actor_identifier)


@dataclass(frozen=True)
class AanvraagConfig:
    """Where a municipality registers a pre-filled application (the ``aanvraag:`` block).

    ``objecttype`` is the URL of the ProductAanvraag objecttype in its Objecttypes API and
    ``type_version`` its version; ``digid_link`` is the Open Formulieren form address with
    ``{uuid}`` (the object's uuid, passed as ``initial_data_reference``) and optionally
    ``{product}``. ``example`` is true while nobody checked these against the municipality:
    such a link must never be sent to a resident as if it were real.
    """

    objecttype: str
    type_version: int
    digid_link: str | None = None
    example: bool = True
    sources: tuple[Source, ...] = ()
    checked: date | None = None

    def digid_url(self, *, product: str, object_uuid: str) -> str | None:
        """The continuation link for one object, or None when none is configured."""
        if self.digid_link is None:
            return None
        return self.digid_link.format(product=quote(product, safe=""), uuid=object_uuid)


@dataclass(frozen=True)
class Municipality:
    """A configured municipality and the destinations its configuration routes to.

    ``regional``: the regional organisation's teams for the services configured regional
    (empty when the municipality does everything itself).
    ``local``: its local team first, then the per-service local teams, without repeats.
    ``local_services``: for each local destination, the services routed to it (a team routed
    for no service is the general local team).
    """

    code: str
    name: str
    region: str
    regional: tuple[TeamRef, ...]
    local: tuple[TeamRef, ...]
    aliases: tuple[str, ...] = ()
    local_services: dict[TeamRef, frozenset[str]] = field(default_factory=dict)
    aanvraag: AanvraagConfig | None = None

    @property
    def destinations(self) -> tuple[TeamRef, ...]:
        """Every team the configuration routes this municipality's residents to."""
        return self.regional + self.local


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    regional_organisation: str
    # organisations the region block names: regional organisation, employer service,
    # youth desk, sheltered work
    organisations: frozenset[str]


@dataclass(frozen=True)
class ReturnTarget:
    """A team a case may be returned to (the reverse warm handover), for a staff form."""

    level: Level
    organisation: str
    organisation_name: str
    team: str
    team_name: str


def normalise_name(text: str) -> str:
    """Lowercase, no diacritics or punctuation, single spaces: how municipality names compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _significant_words(name: str) -> frozenset[str]:
    return frozenset(normalise_name(name).split()) - _FILLER_WORDS


class Directory:
    """All configured regions, organisations and municipalities (read-only)."""

    def __init__(
        self,
        *,
        regions: dict[str, Region],
        organisations: dict[str, Organisation],
        municipalities: dict[str, Municipality],
    ) -> None:
        self.regions = regions
        self.organisations = organisations
        self.municipalities = municipalities

    # --- look-ups ---

    def municipality(self, code: str) -> Municipality | None:
        return self.municipalities.get(code)

    def organisation(self, org_id: str) -> Organisation | None:
        return self.organisations.get(org_id)

    def municipality_name_matches(self, code: str, name: str) -> bool:
        """Whether ``name`` is the configured name (or an alias) of municipality ``code``,
        ignoring case, diacritics and punctuation ("Bergen NH" is "Bergen (NH)")."""
        municipality = self.municipalities.get(code)
        if municipality is None:
            return False
        given = normalise_name(name)
        return any(given == normalise_name(n) for n in (municipality.name, *municipality.aliases))

    # --- validation ---

    def municipality_error(self, code: str) -> str | None:
        """None for a configured municipality, else a message listing the configured ones."""
        if code in self.municipalities:
            return None
        known = ", ".join(f"{m.code} ({m.name})" for m in self.municipalities.values())
        return f"unknown municipality '{code}'; configured: {known}"

    def organisation_error(self, *, organisation: str, level: str | None = None) -> str | None:
        """None when the organisation exists (and has ``level``, when given)."""
        org = self.organisations.get(organisation)
        if org is None:
            return f"unknown organisation '{organisation}'"
        if level is not None and org.level != level:
            return f"organisation '{organisation}' is {org.level}, not {level}"
        return None

    def team_error(self, *, organisation: str, team: str) -> str | None:
        """None when ``team`` is a team of the (existing) organisation."""
        org = self.organisations.get(organisation)
        if org is None:
            return f"unknown organisation '{organisation}'"
        if team not in org.teams:
            return (
                f"team '{team}' is not a team of '{organisation}' (teams: {', '.join(org.teams)})"
            )
        return None

    def serves(self, *, organisation: str, municipality_code: str) -> bool:
        """Whether the organisation works for this municipality.

        True when the municipality's configuration routes to it, its region block names it
        (regional organisation, employer service, youth desk, sheltered work), or its own
        ``serves`` list names the municipality.
        """
        municipality = self.municipalities.get(municipality_code)
        org = self.organisations.get(organisation)
        if municipality is None or org is None:
            return False
        if any(ref.organisation == organisation for ref in municipality.destinations):
            return True
        region = self.regions.get(municipality.region)
        if region is not None and organisation in region.organisations:
            return True
        names = {normalise_name(n) for n in (municipality.name, *municipality.aliases)}
        return any(normalise_name(s) in names for s in org.serves)

    def destination_error(
        self, *, municipality_code: str, level: str, organisation: str, team: str
    ) -> str | None:
        """None when a handover for this municipality may go to this level/organisation/team;
        otherwise what is wrong, in one English sentence (for a 422 response)."""
        problem = (
            self.municipality_error(municipality_code)
            or self.organisation_error(organisation=organisation)
            or self.team_error(organisation=organisation, team=team)
            or self.organisation_error(organisation=organisation, level=level)
        )
        if problem:
            return problem
        if not self.serves(organisation=organisation, municipality_code=municipality_code):
            name = self.municipalities[municipality_code].name
            return (
                f"organisation '{organisation}' does not serve municipality "
                f"{municipality_code} ({name})"
            )
        return None

    # --- returning a case ---

    def return_targets(
        self, *, municipality_code: str, from_organisation: str
    ) -> list[ReturnTarget]:
        """The teams a case of this municipality may be returned to from ``from_organisation``.

        The teams of the other level that the municipality's configuration routes to: from
        the regional organisation its local team (and per-service local teams, but not a
        contact centre that is only routed for information), from a local team the regional
        organisation's teams. A municipality that routes nothing to the other level (one
        that runs work and income itself, with a local work & income department) returns
        between its own local organisations instead, so that that department and its social
        team can still hand cases to each other. Empty for an unknown municipality or
        organisation.
        """
        municipality = self.municipalities.get(municipality_code)
        source = self.organisations.get(from_organisation)
        if municipality is None or source is None:
            return []
        candidates = [
            ref
            for ref in municipality.destinations
            if ref.organisation != from_organisation
            and municipality.local_services.get(ref) != frozenset({_INFORMATION})
        ]
        other = [r for r in candidates if self.organisations[r.organisation].level != source.level]
        chosen = other or candidates
        targets: list[ReturnTarget] = []
        for ref in dict.fromkeys(chosen):
            org = self.organisations[ref.organisation]
            targets.append(
                ReturnTarget(
                    level=org.level,
                    organisation=org.id,
                    organisation_name=org.name,
                    team=ref.team,
                    team_name=org.teams[ref.team].name,
                )
            )
        return targets

    # --- service levels ---

    def response_working_days(
        self, organisation: str, team: str, *, urgent: bool = False
    ) -> int | None:
        """Working days until a professional of this team contacts the resident: the team's
        configured service level, else the default for its level (regional 3, local 5;
        urgent 1). None for an unknown organisation or team."""
        org = self.organisations.get(organisation)
        known = org.teams.get(team) if org is not None else None
        if org is None or known is None:
            return None
        if urgent:
            if known.urgent_response_working_days is not None:
                return known.urgent_response_working_days
            return DEFAULT_URGENT_RESPONSE_WORKING_DAYS
        if known.response_working_days is not None:
            return known.response_working_days
        return DEFAULT_RESPONSE_WORKING_DAYS[org.level]

    # --- working hours, escalation and notification ---

    def team(self, organisation: str, team: str) -> Team | None:
        org = self.organisations.get(organisation)
        return org.teams.get(team) if org is not None else None

    def handling(self, organisation: str, team: str) -> Handling:
        """The team's ``handling:`` configuration (the defaults for an unknown team)."""
        known = self.team(organisation, team)
        return known.handling if known is not None else DEFAULT_HANDLING

    def claim_within(self, organisation: str, team: str, *, urgent: bool) -> float:
        """Working hours within which a new handover of this team must be claimed."""
        handling = self.handling(organisation, team)
        return handling.urgent_claim_within_hours if urgent else handling.claim_within_hours

    def notify_config(
        self, organisation: str, team: str, *, include_examples: bool = False
    ) -> NotifyConfig | None:
        """The team's notification channel; None when it has none, or only an example one
        (unless ``include_examples``: a local run whose SMTP server catches everything)."""
        known = self.team(organisation, team)
        config = known.notify if known is not None else None
        if config is None or (config.example and not include_examples):
            return None
        return config

    # --- names for people ---

    def display_name(self, organisation: str, team: str | None = None) -> str:
        """A readable name of an organisation (and team) for staff pages, without doubling.

        "Senzer" (team named like its organisation), "Gemeente Helmond – het wijkteam
        Helmond", "Het Jongerenloket van Werkplein IJmond" (team name contains the
        organisation's). Unknown ids fall back to the ids.
        """
        org = self.organisations.get(organisation)
        if org is None:
            return f"{organisation} – {team}" if team else organisation
        if team is None:
            return org.name
        known = org.teams.get(team)
        if known is None:
            return f"{org.name} – {team}"
        team_words, org_words = _significant_words(known.name), _significant_words(org.name)
        if team_words <= org_words:
            return org.name
        if org_words <= team_words:
            return known.name[:1].upper() + known.name[1:]
        return f"{org.name} – {known.name}"


# --- reading the YAML ---------------------------------------------------------------------------


class _Model(BaseModel):
    # Keys the API does not use (contact, services of a team, places, ...) are the action
    # server's business: it validates them strictly; here they are ignored.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TeamRefIn(_Model):
    organisation: str
    team: str


_EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


class _HandlingIn(_Model):
    # extra="forbid": a misspelt key must not silently fall back to the default hours.
    model_config = ConfigDict(extra="forbid", frozen=True)

    hours: str | None = None
    closed_days: list[date] = []
    claim_within_hours: float = Field(default=DEFAULT_CLAIM_WITHIN_HOURS, gt=0, le=200)
    urgent_claim_within_hours: float = Field(default=DEFAULT_URGENT_CLAIM_WITHIN_HOURS, gt=0, le=40)

    @field_validator("hours")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value is not None and parse_hours(value) is None:
            raise ValueError(f"cannot read hours {value!r}; write e.g. 'ma-vr 9.00-17.00'")
        return value


class _NotifyIn(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["email", "webhook"]
    to: list[str] = []
    escalate_to: list[str] = []
    url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    escalate_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    example: bool = True

    @field_validator("to", "escalate_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.match(_EMAIL, address):
                raise ValueError(f"not an e-mail address: {address!r}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> _NotifyIn:
        if self.channel == "email" and not self.to:
            raise ValueError("channel email needs 'to' (one or more addresses)")
        if self.channel == "webhook" and not (self.url and self.secret_env):
            raise ValueError("channel webhook needs 'url' and 'secret_env'")
        return self


class _ContactHoursIn(_Model):
    hours: str | None = None


class _TeamIn(_Model):
    id: str = Field(pattern=_ID_RE.pattern)
    name: str
    services: list[str] = []
    response_working_days: int | None = Field(default=None, ge=1, le=20)
    urgent_response_working_days: int | None = Field(default=None, ge=0, le=5)
    contact: _ContactHoursIn | None = None
    handling: _HandlingIn | None = None
    notify: _NotifyIn | None = None

    def to_handling(self) -> Handling:
        """``handling:``, with the team's telephone hours (``contact.hours``) as its working
        hours when it names none, and Monday to Friday 9-17 when neither does."""
        given = self.handling or _HandlingIn()
        return Handling(
            hours=working_hours_text(given.hours, self.contact.hours if self.contact else None),
            closed_days=tuple(given.closed_days),
            claim_within_hours=given.claim_within_hours,
            urgent_claim_within_hours=given.urgent_claim_within_hours,
        )

    def to_notify(self) -> NotifyConfig | None:
        n = self.notify
        if n is None:
            return None
        return NotifyConfig(
            channel=n.channel,
            to=tuple(n.to),
            escalate_to=tuple(n.escalate_to),
            url=n.url,
            escalate_url=n.escalate_url,
            secret_env=n.secret_env,
            example=n.example,
        )


class _SourceIn(_Model):
    title: str
    url: str = Field(pattern=r"^https?://\S+$")


class _SuccessorIn(_Model):
    name: str


class _ExportIn(_Model):
    # extra="forbid": a misspelt key in an export block must not silently switch export off.
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["none", "klantinteracties"] = "none"
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")
    token_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    team_actor_identifier: str | None = Field(default=None, min_length=1, max_length=200)
    team_actor_register: str | None = Field(default=None, min_length=1, max_length=200)
    team_actors: dict[str, str] = {}
    kanalen: dict[str, str] = {}
    example: bool = True


class _OrganisationIn(_Model):
    id: str = Field(pattern=_ID_RE.pattern)
    name: str
    level: Level
    serves: list[str] = []
    teams: list[_TeamIn] = Field(min_length=1)
    # provenance: ``source:`` (one) or ``sources:`` (a list), and when it was ``checked``
    source: _SourceIn | None = None
    sources: list[_SourceIn] = []
    checked: date | None = None
    name_in_sources: str | None = None
    successor: _SuccessorIn | None = None
    whatsapp_template_content_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-f]{32}$")
    whatsapp_template_example: bool = True
    export: _ExportIn | None = None


# Placeholders a DigiD continuation link may use: the object's uuid (required: it is what Open
# Formulieren reads as ``initial_data_reference``) and the catalogue's product slug.
DIGID_LINK_PLACEHOLDERS = frozenset({"uuid", "product"})


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"must be an https URL: {value!r}")
    return value


class _ObjectsApiIn(_Model):
    objecttype: str
    # Objects API ``record.typeVersion``: 0..32767 in its OpenAPI; 0 is never a published one.
    type_version: int = Field(ge=1, le=32767)

    @field_validator("objecttype")
    @classmethod
    def _url(cls, value: str) -> str:
        return _https_url(value)


class _AanvraagIn(_Model):
    objects_api: _ObjectsApiIn
    digid_link: str | None = None
    example: bool = True
    source: _SourceIn | None = None
    sources: list[_SourceIn] = []
    checked: date | None = None

    @field_validator("digid_link")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            names = [name for _, name, _, _ in Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(f"digid_link is not a valid template: {exc}") from exc
        unknown = sorted(set(names) - DIGID_LINK_PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"digid_link: unknown placeholder(s) {', '.join(unknown)}; "
                "use {uuid} and optionally {product}"
            )
        if "uuid" not in names:
            raise ValueError("digid_link must contain {uuid} (the initial_data_reference)")
        # The filled-in link must be an https URL; the template itself is what is kept.
        _https_url(value.format(uuid="00000000-0000-0000-0000-000000000000", product="p"))
        return value

    @model_validator(mode="after")
    def _verified_needs_a_source(self) -> _AanvraagIn:
        if not self.example and not (self.source or self.sources):
            raise ValueError("example: false needs a source (source: or sources:)")
        return self


class _MunicipalityIn(_Model):
    code: str = Field(pattern=_GM_CODE_RE.pattern)
    name: str
    aliases: list[str] = []
    local_team: _TeamRefIn
    local_teams: dict[str, _TeamRefIn] = {}
    services: dict[str, Level]
    aanvraag: _AanvraagIn | None = None


class _RegionIn(_Model):
    id: str = Field(pattern=_ID_RE.pattern)
    name: str
    regional_organisation: str
    employer_service: _TeamRefIn | None = None
    youth_desk: _TeamRefIn | None = None
    sheltered_work: str | None = None


class _RegionFile(_Model):
    region: _RegionIn
    organisations: list[_OrganisationIn] = []
    municipalities: list[_MunicipalityIn] = Field(min_length=1)


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(file)"


def _read_file(path: Path) -> _RegionFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DirectoryError(path.name, "(file)", f"cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DirectoryError(path.name, "(file)", f"invalid YAML: {exc}") from exc
    try:
        parsed = _RegionFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DirectoryError(path.name, _field_path(first["loc"]), first["msg"]) from exc
    return parsed


class _Builder:
    """Cross-file checks and the conversion to the public view."""

    def __init__(self) -> None:
        self.organisations: dict[str, Organisation] = {}
        self.regions: dict[str, Region] = {}
        self.municipalities: dict[str, Municipality] = {}
        # organisation -> team -> services it lists (only needed to route regional services)
        self.team_services: dict[str, dict[str, frozenset[str]]] = {}

    def add_organisations(self, file: str, parsed: _RegionFile) -> None:
        for i, org in enumerate(parsed.organisations):
            where = f"organisations[{i}]"
            if org.id in self.organisations:
                raise DirectoryError(file, f"{where}.id", f"duplicate organisation '{org.id}'")
            teams: dict[str, Team] = {}
            for j, team in enumerate(org.teams):
                if team.id in teams:
                    raise DirectoryError(
                        file, f"{where}.teams[{j}].id", f"duplicate team '{team.id}'"
                    )
                teams[team.id] = Team(
                    id=team.id,
                    name=team.name,
                    response_working_days=team.response_working_days,
                    urgent_response_working_days=team.urgent_response_working_days,
                    handling=team.to_handling(),
                    notify=team.to_notify(),
                )
                self.team_services.setdefault(org.id, {})[team.id] = frozenset(team.services)
            self.organisations[org.id] = Organisation(
                id=org.id,
                name=org.name,
                level=org.level,
                teams=teams,
                serves=tuple(org.serves),
                region=parsed.region.id,
                sources=tuple(
                    Source(title=src.title, url=src.url)
                    for src in ([org.source] if org.source else []) + org.sources
                ),
                checked=org.checked,
                name_in_sources=org.name_in_sources,
                successor_name=org.successor.name if org.successor else None,
                whatsapp_template_content_sid=org.whatsapp_template_content_sid,
                whatsapp_template_example=org.whatsapp_template_example,
                export=_export(org.export),
            )

    def _ref(self, file: str, where: str, ref: _TeamRefIn) -> TeamRef:
        org = self.organisations.get(ref.organisation)
        if org is None:
            raise DirectoryError(
                file, f"{where}.organisation", f"unknown organisation '{ref.organisation}'"
            )
        if ref.team not in org.teams:
            raise DirectoryError(
                file, f"{where}.team", f"organisation '{org.id}' has no team '{ref.team}'"
            )
        return TeamRef(organisation=org.id, team=ref.team)

    def _org(self, file: str, where: str, org_id: str, level: Level | None = None) -> str:
        org = self.organisations.get(org_id)
        if org is None:
            raise DirectoryError(file, where, f"unknown organisation '{org_id}'")
        if level is not None and org.level != level:
            raise DirectoryError(file, where, f"organisation '{org_id}' is not {level}")
        return org_id

    def add_region(self, file: str, parsed: _RegionFile) -> None:
        region = parsed.region
        if region.id in self.regions:
            raise DirectoryError(file, "region.id", f"duplicate region '{region.id}'")
        named = {
            self._org(
                file, "region.regional_organisation", region.regional_organisation, "regional"
            )
        }
        for key in ("employer_service", "youth_desk"):
            ref = getattr(region, key)
            if ref is not None:
                named.add(self._ref(file, f"region.{key}", ref).organisation)
        if region.sheltered_work:
            named.add(self._org(file, "region.sheltered_work", region.sheltered_work))
        self.regions[region.id] = Region(
            id=region.id,
            name=region.name,
            regional_organisation=region.regional_organisation,
            organisations=frozenset(named),
        )
        regional_org = self.organisations[region.regional_organisation]
        for i, m in enumerate(parsed.municipalities):
            self._add_municipality(file, f"municipalities[{i}]", m, region.id, regional_org)

    def _add_municipality(
        self,
        file: str,
        where: str,
        m: _MunicipalityIn,
        region_id: str,
        regional_org: Organisation,
    ) -> None:
        if m.code in self.municipalities:
            raise DirectoryError(file, f"{where}.code", f"duplicate municipality {m.code}")
        local_services: dict[TeamRef, set[str]] = {}
        general = self._ref(file, f"{where}.local_team", m.local_team)
        local_services[general] = set()
        for service, given in m.local_teams.items():
            if m.services.get(service) != "local":
                raise DirectoryError(
                    file, f"{where}.local_teams.{service}", "service is not configured 'local'"
                )
            target = self._ref(file, f"{where}.local_teams.{service}", given)
            local_services.setdefault(target, set()).add(service)
        # The regional team of each regional service, as actions/regions.py routes it: the
        # team of the regional organisation that lists the service, else its first team.
        regional: list[TeamRef] = []
        for service, level in m.services.items():
            if level == "regional":
                team_id = self._regional_team_for(regional_org, service)
                routed = TeamRef(organisation=regional_org.id, team=team_id)
                if routed not in regional:
                    regional.append(routed)
        self.municipalities[m.code] = Municipality(
            code=m.code,
            name=m.name,
            region=region_id,
            regional=tuple(regional),
            local=tuple(local_services),
            aliases=tuple(m.aliases),
            local_services={ref: frozenset(s) for ref, s in local_services.items()},
            aanvraag=_aanvraag(m.aanvraag),
        )

    def _regional_team_for(self, org: Organisation, service: str) -> str:
        for team_id, services in self.team_services.get(org.id, {}).items():
            if service in services:
                return team_id
        return next(iter(org.teams))


def _export(given: _ExportIn | None) -> ExportConfig | None:
    if given is None or given.kind == "none":
        return None
    return ExportConfig(
        kind=given.kind,
        base_url=given.base_url.rstrip("/") if given.base_url else None,
        token_env=given.token_env,
        team_actor_identifier=given.team_actor_identifier,
        team_actor_register=given.team_actor_register,
        team_actors=tuple(sorted(given.team_actors.items())),
        kanalen=tuple(sorted(given.kanalen.items())),
        example=given.example,
    )


def _aanvraag(given: _AanvraagIn | None) -> AanvraagConfig | None:
    if given is None:
        return None
    return AanvraagConfig(
        objecttype=given.objects_api.objecttype,
        type_version=given.objects_api.type_version,
        digid_link=given.digid_link,
        example=given.example,
        sources=tuple(
            Source(title=src.title, url=src.url)
            for src in ([given.source] if given.source else []) + given.sources
        ),
        checked=given.checked,
    )


def _build(files: list[tuple[str, _RegionFile]]) -> Directory:
    builder = _Builder()
    # Organisations first: a region may name an organisation defined in another file.
    for file, parsed in files:
        builder.add_organisations(file, parsed)
    for file, parsed in files:
        builder.add_region(file, parsed)
    return Directory(
        regions=builder.regions,
        organisations=builder.organisations,
        municipalities=builder.municipalities,
    )


@functools.lru_cache(maxsize=8)
def _load_resolved(regions_dir: Path) -> Directory:
    files = sorted(regions_dir.glob("*.yml"))
    if not files:
        raise DirectoryError(str(regions_dir), "(directory)", "no region files (*.yml)")
    return _build([(f.name, _read_file(f)) for f in files])


def load_directory(data_dir: Path) -> Directory:
    """The region configuration in ``data_dir/regions/*.yml``, cached per resolved path.

    Raises DirectoryError (file + field) when a file is missing, malformed or inconsistent.
    """
    return _load_resolved(_regions_dir(Path(data_dir)))


@functools.lru_cache(maxsize=8)
def _regions_dir(data_dir: Path) -> Path:
    # Resolving touches the file system; request validation asks for the directory several
    # times per handover, so the resolved path is remembered too.
    return (data_dir / "regions").resolve()


def clear_cache() -> None:
    """Forget loaded configurations (tests, or a reload after editing the YAML)."""
    _load_resolved.cache_clear()
    _regions_dir.cache_clear()


_configured: Path | None = None


def configure(data_dir: Path) -> Directory:
    """Make ``data_dir`` the configuration ``current()`` returns; loads it now, so that a
    malformed file stops the app at start-up instead of failing the first request."""
    global _configured
    directory = load_directory(data_dir)
    _configured = Path(data_dir)
    return directory


def current() -> Directory:
    """The directory request validation uses: the one ``configure`` set, else the one of
    ``VOORDEUR_DATA_DIR`` in the process settings."""
    if _configured is not None:
        return load_directory(_configured)
    from handover_api.core.config import get_settings  # settings are read on first use only

    return load_directory(get_settings().VOORDEUR_DATA_DIR)
