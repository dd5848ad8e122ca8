"""Conversation test suite: residents' conversations as data (``tests/conversations/*.yml``).

One YAML file per pattern, each a list of conversations::

    - id: crisis-07                  # unique over all files: [a-z0-9-]
      pattern: crisis_follow_up      # the file's name without .yml
      channel: sms                   # web | sms | whatsapp
      about: "saved pills, then 'nee het gaat om mij'"
      every_turn: {not_says: [...]}  # optional: expectations added to every turn
      turns:
        - user: "heb de pillen van mn moeder gespaard"
          expect: {...}              # optional, see Expectation
      handover: {...}                # optional, see HandoverExpectation

Every turn must get at least one bot message. Text checks are case-insensitive, with white
space collapsed and dashes unified, on everything the resident sees of the turn: the texts and
the button titles. Unknown keys are errors, so a typo never silently weakens a test.

Organisations are renamed while the region configuration is checked against reality, so text
checks may name them through the configuration instead of literally: ``{org:peel61}`` is the
organisation's current name, ``{team:gemeente-deurne/sociaal-team}`` a team's name (without
"het"/"de"), ``{org:regional-of:Woerden}`` the name of the work & income organisation of that
municipality's region. They are filled in when the suite is loaded.

``run_conversation`` plays one conversation against the REST channel of a running Rasa server
(``POST {rasa_url}/webhooks/rest/webhook`` with ``metadata.channel``), each time under a fresh
sender id, and checks the handover the bot reported through the handover API. Only the standard
library is used, so the suite loads in both virtual environments.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REGIONS_DIR = REPO / "data" / "regions"

# Minimum number of conversations per pattern; the file of a pattern is `<pattern>.yml`.
PATTERN_MINIMUMS: dict[str, int] = {
    "conditions_corrections": 12,
    "side_questions": 10,
    "way_forward": 12,
    "national_schemes": 14,
    "crisis_follow_up": 14,
    "consent_privacy": 8,
    "tone_repetition": 10,
    "applications": 10,
}
MINIMUM_CONVERSATIONS = 80
CHANNELS = ("web", "sms", "whatsapp")
LEVELS = ("regional", "local")
PRIORITIES = ("normal", "urgent")
CRISIS_TYPES = (
    "suicidaliteit",
    "huiselijk_geweld",
    "acute_dakloosheid",
    "medisch_spoed",
    "onbekend",
)
NO_CRISIS = "none"
REGIONAL_OF = "regional-of:"  # organisation given as "the regional organisation of <municipality>"

REFERENCE_RE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Choices on SMS/WhatsApp: numbered lines "1. Ja" / "2) Nee" (at least two).
_NUMBERED_RE = re.compile(r"(?m)^\s*1\s*[.)]\s*\S.*\n\s*2\s*[.)]\s*\S")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_SPACE_RE = re.compile(r"\s+")
# not_same_as_previous compares paragraphs at least this long (short prompts may repeat).
REPEAT_MIN_CHARS = 80


class SuiteError(ValueError):
    """A YAML file does not follow the schema; the message says where and why."""


# --- the schema --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    """What the bot's reply to one turn must (not) contain.

    - ``says_all``: every item appears.
    - ``says_any``: a list of strings (one group) or a list of lists (several groups): from
      every group at least one item appears.
    - ``not_says``: no item appears.
    - ``says_regex`` / ``not_regex``: every pattern matches / no pattern matches (Python
      ``re``, case-sensitive, on the joined reply text).
    - ``says_in_order``: every item appears, first occurrences in this order ("112" first).
    - ``at_most_once``: no item appears twice (a question is asked again only once).
    - ``choices``: true: the reply offers choices (buttons on web, numbered lines "1." on
      sms/whatsapp); false: it offers none.
    - ``max_choices``: at most this many messages of the reply offer choices.
    - ``not_same_as_previous``: no paragraph of 80+ characters is repeated from the previous
      turn's reply.
    """

    says_all: tuple[str, ...] = ()
    says_any: tuple[tuple[str, ...], ...] = ()
    not_says: tuple[str, ...] = ()
    says_regex: tuple[str, ...] = ()
    not_regex: tuple[str, ...] = ()
    says_in_order: tuple[str, ...] = ()
    at_most_once: tuple[str, ...] = ()
    choices: bool | None = None
    max_choices: int | None = None
    not_same_as_previous: bool = False

    def merged(self, other: Expectation) -> Expectation:
        """This expectation plus `other` (the conversation's ``every_turn``)."""
        return Expectation(
            says_all=self.says_all + other.says_all,
            says_any=self.says_any + other.says_any,
            not_says=self.not_says + other.not_says,
            says_regex=self.says_regex + other.says_regex,
            not_regex=self.not_regex + other.not_regex,
            says_in_order=self.says_in_order or other.says_in_order,
            at_most_once=self.at_most_once + other.at_most_once,
            choices=self.choices if self.choices is not None else other.choices,
            max_choices=_min_or_none(self.max_choices, other.max_choices),
            not_same_as_previous=self.not_same_as_previous or other.not_same_as_previous,
        )


@dataclass(frozen=True)
class Turn:
    user: str
    expect: Expectation = field(default_factory=Expectation)


@dataclass(frozen=True)
class HandoverExpectation:
    """Checked through the handover API on the handover with the last reference the bot printed.

    - ``organisation`` (required): organisation id to log in as (a staff user is made for it),
      or ``regional-of:<Municipality>`` for the region's work & income organisation whatever
      its id is at the time.
    - ``level`` / ``priority``: ``destination.level`` / ``priority``.
    - ``crisis``: ``crisis.type``, or ``none`` for no crisis.
    - ``municipality``: ``municipality.name``.
    - ``summary_says_any`` / ``best_time_says_any``: one item appears in ``summary`` /
      ``contact.best_time``; ``mentions_any``: in either (or in ``destination.reason``).
    - ``phone``: ``contact.phone``, compared digits only.
    - ``transcript_not_says``: in no event of the transcript (redacted and full view).
    - ``consent_withdrawn``: ``consent.withdrawn_at`` is set (true) or not (false).
    - ``application``: ``{type, complete, fields}``; ``type`` and ``complete`` are compared as
      given, and each field listed must have exactly this (JSON) value; fields not listed are
      not checked. ``application: none`` expects no application.
    The handover's ``channel`` must always be the conversation's channel.
    """

    organisation: str
    level: str | None = None
    priority: str | None = None
    crisis: str | None = None
    municipality: str | None = None
    summary_says_any: tuple[str, ...] = ()
    best_time_says_any: tuple[str, ...] = ()
    mentions_any: tuple[str, ...] = ()
    phone: str | None = None
    transcript_not_says: tuple[str, ...] = ()
    consent_withdrawn: bool | None = None
    application: Mapping[str, Any] | str | None = None


@dataclass(frozen=True)
class Conversation:
    id: str
    pattern: str
    channel: str
    about: str
    turns: tuple[Turn, ...]
    handover: HandoverExpectation | None = None
    every_turn: Expectation = field(default_factory=Expectation)
    source: str = ""  # file it came from


def _min_or_none(a: int | None, b: int | None) -> int | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise SuiteError(f"{where}: must be a non-empty list of strings")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise SuiteError(f"{where}: every item must be a non-empty string, got {item!r}")
    return tuple(value)


def _named(value: Any, where: str) -> tuple[str, ...]:
    """Strings with ``{org:...}``/``{team:...}`` filled in from the region configuration."""
    return tuple(expand_names(item, where) for item in _strings(value, where))


def _regexes(value: Any, where: str) -> tuple[str, ...]:
    patterns = _strings(value, where)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SuiteError(f"{where}: invalid regular expression {pattern!r}: {exc}") from exc
    return patterns


def _check_keys(data: Any, allowed: Iterable[str], required: Iterable[str], where: str) -> None:
    if not isinstance(data, dict):
        raise SuiteError(f"{where}: must be a mapping, got {type(data).__name__}")
    allowed_set = set(allowed)
    unknown = sorted(set(data) - allowed_set)
    if unknown:
        raise SuiteError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed_set)}")
    missing = sorted(set(required) - set(data))
    if missing:
        raise SuiteError(f"{where}: missing key(s) {missing}")


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SuiteError(f"{where}: must be true or false, got {value!r}")
    return value


EXPECT_KEYS = tuple(f.name for f in fields(Expectation))
HANDOVER_KEYS = tuple(f.name for f in fields(HandoverExpectation))
TURN_KEYS = ("user", "expect")
CONVERSATION_KEYS = ("id", "pattern", "channel", "about", "turns", "handover", "every_turn")


def parse_expectation(data: Any, where: str) -> Expectation:
    _check_keys(data, EXPECT_KEYS, (), where)
    values: dict[str, Any] = {}
    for key in ("says_all", "not_says", "says_in_order", "at_most_once"):
        if key in data:
            values[key] = _named(data[key], f"{where}.{key}")
    for key in ("says_regex", "not_regex"):
        if key in data:
            values[key] = _regexes(data[key], f"{where}.{key}")
    if "says_any" in data:
        raw = data["says_any"]
        if isinstance(raw, list) and raw and all(isinstance(group, list) for group in raw):
            values["says_any"] = tuple(
                _named(group, f"{where}.says_any[{i}]") for i, group in enumerate(raw)
            )
        else:
            values["says_any"] = (_named(raw, f"{where}.says_any"),)
    if "choices" in data:
        values["choices"] = _bool(data["choices"], f"{where}.choices")
    if "max_choices" in data:
        limit = data["max_choices"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise SuiteError(f"{where}.max_choices: must be a whole number >= 0, got {limit!r}")
        values["max_choices"] = limit
    if "not_same_as_previous" in data:
        values["not_same_as_previous"] = _bool(
            data["not_same_as_previous"], f"{where}.not_same_as_previous"
        )
    return Expectation(**values)


@lru_cache(maxsize=4)
def _region_files(regions_dir: Path) -> tuple[dict[str, Any], ...]:
    return tuple(
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(regions_dir.glob("*.yml"))
    )


def known_organisations(regions_dir: Path = REGIONS_DIR) -> set[str]:
    """Organisation ids of the region configuration."""
    return {org["id"] for data in _region_files(regions_dir) for org in data["organisations"]}


def municipality_names(regions_dir: Path = REGIONS_DIR) -> dict[str, str]:
    """Every municipality, place and alias (lower case) -> the region id it belongs to."""
    names: dict[str, str] = {}
    for data in _region_files(regions_dir):
        for municipality in data["municipalities"]:
            for name in (
                municipality["name"],
                *municipality.get("places", []),
                *municipality.get("aliases", []),
            ):
                names[name.lower()] = data["region"]["id"]
    return names


def resolve_organisation(value: str, regions_dir: Path = REGIONS_DIR) -> str:
    """An organisation id as written in a conversation; ``regional-of:Woerden`` becomes the id
    of the work & income organisation of Woerden's region as configured right now."""
    if not value.startswith(REGIONAL_OF):
        return value
    wanted = value[len(REGIONAL_OF) :].strip().lower()
    for data in _region_files(regions_dir):
        if any(m["name"].lower() == wanted for m in data["municipalities"]):
            return str(data["region"]["regional_organisation"])
    raise SuiteError(f"{value}: no municipality {wanted!r} in {regions_dir}")


_NAME_RE = re.compile(r"\{(org|team):([^{}]+)\}")
_ARTICLE_RE = re.compile(r"^(?:het|de)\s+", re.IGNORECASE)


def organisation_name(ref: str, regions_dir: Path = REGIONS_DIR) -> str:
    """The current name of organisation `ref` (an id or ``regional-of:<Municipality>``)."""
    wanted = resolve_organisation(ref, regions_dir)
    for data in _region_files(regions_dir):
        for org in data["organisations"]:
            if org["id"] == wanted:
                return str(org["name"])
    raise SuiteError(f"{{org:{ref}}}: no organisation {wanted!r} in {regions_dir}")


def team_name(ref: str, regions_dir: Path = REGIONS_DIR) -> str:
    """The current name of team `ref` ("organisation/team"), without a leading article."""
    organisation, _, team = ref.partition("/")
    wanted = resolve_organisation(organisation, regions_dir)
    for data in _region_files(regions_dir):
        for org in data["organisations"]:
            if org["id"] != wanted:
                continue
            for candidate in org.get("teams", []):
                if candidate["id"] == team:
                    return _ARTICLE_RE.sub("", str(candidate["name"]))
    raise SuiteError(f"{{team:{ref}}}: no team {team!r} of {wanted!r} in {regions_dir}")


def expand_names(text: str, where: str = "") -> str:
    """`text` with every ``{org:...}`` / ``{team:...}`` replaced by the configured name."""

    def name(match: re.Match[str]) -> str:
        kind, ref = match.group(1), match.group(2).strip()
        try:
            return organisation_name(ref) if kind == "org" else team_name(ref)
        except SuiteError as exc:
            raise SuiteError(f"{where}: {exc}") from exc

    return _NAME_RE.sub(name, text)


def parse_handover(data: Any, where: str, organisations: set[str] | None) -> HandoverExpectation:
    _check_keys(data, HANDOVER_KEYS, ("organisation",), where)
    organisation = data["organisation"]
    if not isinstance(organisation, str) or not organisation:
        raise SuiteError(f"{where}.organisation: must be an organisation id")
    if organisation.startswith(REGIONAL_OF):
        resolve_organisation(organisation)  # raises for an unknown municipality
    elif organisations is not None and organisation not in organisations:
        raise SuiteError(f"{where}.organisation: unknown organisation {organisation!r}")
    values: dict[str, Any] = {"organisation": organisation}
    for key, allowed in (
        ("level", LEVELS),
        ("priority", PRIORITIES),
        ("crisis", (*CRISIS_TYPES, NO_CRISIS)),
    ):
        if key in data:
            if data[key] not in allowed:
                raise SuiteError(
                    f"{where}.{key}: must be one of {list(allowed)}, got {data[key]!r}"
                )
            values[key] = data[key]
    for key in ("municipality", "phone"):
        if key in data:
            if not isinstance(data[key], str) or not data[key].strip():
                raise SuiteError(f"{where}.{key}: must be a non-empty string")
            values[key] = data[key]
    for key in ("summary_says_any", "best_time_says_any", "mentions_any", "transcript_not_says"):
        if key in data:
            values[key] = _strings(data[key], f"{where}.{key}")
    if "consent_withdrawn" in data:
        values["consent_withdrawn"] = _bool(data["consent_withdrawn"], f"{where}.consent_withdrawn")
    if "application" in data:
        values["application"] = _application(data["application"], f"{where}.application")
    return HandoverExpectation(**values)


def _application(data: Any, where: str) -> Mapping[str, Any] | str:
    if data == NO_CRISIS:  # "none": no application expected
        return NO_CRISIS
    _check_keys(data, ("type", "complete", "fields"), ("type",), where)
    if "complete" in data:
        _bool(data["complete"], f"{where}.complete")
    if not isinstance(data.get("fields", {}), dict):
        raise SuiteError(f"{where}.fields: must be a mapping of field name to value")
    return dict(data)


def parse_conversation(
    data: Any, where: str, *, pattern: str | None = None, organisations: set[str] | None = None
) -> Conversation:
    """One conversation from its YAML mapping; `pattern` is the one its file stands for."""
    _check_keys(data, CONVERSATION_KEYS, ("id", "pattern", "channel", "about", "turns"), where)
    conv_id = data["id"]
    if not isinstance(conv_id, str) or not _ID_RE.match(conv_id):
        raise SuiteError(f"{where}.id: must be lower case letters, digits and '-', got {conv_id!r}")
    where = f"{where} ({conv_id})"
    if data["pattern"] not in PATTERN_MINIMUMS:
        raise SuiteError(f"{where}.pattern: unknown pattern {data['pattern']!r}")
    if pattern is not None and data["pattern"] != pattern:
        raise SuiteError(f"{where}.pattern: {data['pattern']!r} in the file of {pattern!r}")
    if data["channel"] not in CHANNELS:
        raise SuiteError(f"{where}.channel: must be one of {list(CHANNELS)}")
    if not isinstance(data["about"], str) or not data["about"].strip():
        raise SuiteError(f"{where}.about: must say what the conversation is about")
    raw_turns = data["turns"]
    if not isinstance(raw_turns, list) or not raw_turns:
        raise SuiteError(f"{where}.turns: must be a non-empty list")
    turns = []
    for i, raw in enumerate(raw_turns, 1):
        turn_where = f"{where}.turns[{i}]"
        _check_keys(raw, TURN_KEYS, ("user",), turn_where)
        if not isinstance(raw["user"], str) or not raw["user"].strip():
            raise SuiteError(f"{turn_where}.user: must be the resident's message")
        expect = (
            parse_expectation(raw["expect"], f"{turn_where}.expect")
            if raw.get("expect") is not None
            else Expectation()
        )
        turns.append(Turn(user=raw["user"], expect=expect))
    handover = (
        parse_handover(data["handover"], f"{where}.handover", organisations)
        if data.get("handover") is not None
        else None
    )
    every_turn = (
        parse_expectation(data["every_turn"], f"{where}.every_turn")
        if data.get("every_turn") is not None
        else Expectation()
    )
    return Conversation(
        id=conv_id,
        pattern=data["pattern"],
        channel=data["channel"],
        about=data["about"],
        turns=tuple(turns),
        handover=handover,
        every_turn=every_turn,
    )


def load_file(path: Path, organisations: set[str] | None = None) -> list[Conversation]:
    """The conversations of one pattern file, validated."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise SuiteError(f"{path.name}: must be a non-empty list of conversations")
    pattern = path.stem
    if pattern not in PATTERN_MINIMUMS:
        raise SuiteError(f"{path.name}: no pattern {pattern!r}; known: {sorted(PATTERN_MINIMUMS)}")
    return [
        replace(
            parse_conversation(
                item, f"{path.name}[{i}]", pattern=pattern, organisations=organisations
            ),
            source=path.name,
        )
        for i, item in enumerate(data, 1)
    ]


def load_suite(directory: Path = HERE) -> list[Conversation]:
    """All conversations of all pattern files, validated; ids must be unique."""
    organisations = known_organisations()
    conversations: list[Conversation] = []
    for path in sorted(directory.glob("*.yml")):
        conversations.extend(load_file(path, organisations))
    seen: dict[str, str] = {}
    for conv in conversations:
        if conv.id in seen:
            raise SuiteError(f"duplicate id {conv.id!r} in {seen[conv.id]} and {conv.source}")
        seen[conv.id] = conv.source
    return conversations


# --- evaluating a reply ------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, one space for any white space, every dash a hyphen."""
    return _SPACE_RE.sub(" ", text.translate(_DASHES)).strip().lower()


@dataclass(frozen=True)
class BotReply:
    """Everything the bot sent back for one resident message (REST channel JSON objects)."""

    messages: tuple[dict[str, Any], ...]

    @property
    def text(self) -> str:
        """What the resident sees: the texts and, as "[a | b]", the button titles."""
        parts = []
        for message in self.messages:
            if message.get("text"):
                parts.append(str(message["text"]))
            titles = [str(b.get("title", "")) for b in message.get("buttons") or []]
            if titles:
                parts.append("[" + " | ".join(titles) + "]")
        return "\n".join(parts)

    def paragraphs(self) -> list[str]:
        found = []
        for message in self.messages:
            for paragraph in re.split(r"\n\s*\n", str(message.get("text") or "")):
                norm = normalise(paragraph)
                if len(norm) >= REPEAT_MIN_CHARS:
                    found.append(norm)
        return found

    def choice_messages(self) -> tuple[int, int, int]:
        """(messages with buttons, with numbered choice lines, offering choices either way)."""
        buttons = [bool(m.get("buttons")) for m in self.messages]
        numbered = [bool(_NUMBERED_RE.search(str(m.get("text") or ""))) for m in self.messages]
        either = sum(b or n for b, n in zip(buttons, numbered, strict=True))
        return sum(buttons), sum(numbered), either


@dataclass(frozen=True)
class Failure:
    """One unmet expectation: in which turn (1-based; None for the handover), which check,
    why, and the bot's text of that turn."""

    turn: int | None
    expectation: str
    detail: str
    bot_text: str = ""


def evaluate(
    expect: Expectation, reply: BotReply, channel: str, previous: BotReply | None = None
) -> list[tuple[str, str]]:
    """The unmet expectations of one reply as (expectation, detail); empty when all hold."""
    problems: list[tuple[str, str]] = []
    if not reply.messages:
        problems.append(("reply", "the bot sent no message"))
    text = normalise(reply.text)

    def has(item: str) -> bool:
        return normalise(item) in text

    missing = [item for item in expect.says_all if not has(item)]
    if missing:
        problems.append(("says_all", f"missing {missing}"))
    for group in expect.says_any:
        if not any(has(item) for item in group):
            problems.append(("says_any", f"none of {list(group)}"))
    present = [item for item in expect.not_says if has(item)]
    if present:
        problems.append(("not_says", f"says {present}"))
    for pattern in expect.says_regex:
        if not re.search(pattern, reply.text):
            problems.append(("says_regex", f"no match for {pattern!r}"))
    for pattern in expect.not_regex:
        match = re.search(pattern, reply.text)
        if match:
            problems.append(("not_regex", f"{pattern!r} matches {match.group(0)!r}"))
    if expect.says_in_order:
        positions = [text.find(normalise(item)) for item in expect.says_in_order]
        absent = [
            item for item, pos in zip(expect.says_in_order, positions, strict=True) if pos < 0
        ]
        if absent:
            problems.append(("says_in_order", f"missing {absent}"))
        elif positions != sorted(positions):
            problems.append(("says_in_order", f"not in the order {list(expect.says_in_order)}"))
    repeated = [item for item in expect.at_most_once if text.count(normalise(item)) > 1]
    if repeated:
        problems.append(("at_most_once", f"more than once: {repeated}"))
    buttons, numbered, offering = reply.choice_messages()
    if expect.choices is True:
        if channel == "web" and not buttons:
            problems.append(("choices", "no buttons on web"))
        if channel != "web" and not numbered:
            problems.append(("choices", f"no numbered choices ('1. ...') on {channel}"))
    if expect.choices is False and offering:
        problems.append(("choices", "offers choices where none were expected"))
    if expect.max_choices is not None and offering > expect.max_choices:
        problems.append(
            ("max_choices", f"{offering} messages offer choices (at most {expect.max_choices})")
        )
    if expect.not_same_as_previous and previous is not None:
        before = set(previous.paragraphs())
        again = [p for p in reply.paragraphs() if p in before]
        if again:
            problems.append(("not_same_as_previous", f"repeats: {again[0][:120]!r}"))
    return problems


# --- checking the handover ----------------------------------------------------------------------


def _digits(value: str | None) -> str:
    digits = re.sub(r"\D", "", value or "")
    return "0" + digits[2:] if digits.startswith("31") and len(digits) == 11 else digits


def check_handover(
    expect: HandoverExpectation,
    handover: Mapping[str, Any],
    channel: str,
    transcripts: Mapping[str, Sequence[str]] | None = None,
) -> list[tuple[str, str]]:
    """Unmet handover expectations as (field, detail). `transcripts`: view -> event texts."""
    problems: list[tuple[str, str]] = []
    destination = handover.get("destination") or {}
    contact = handover.get("contact") or {}
    consent = handover.get("consent") or {}
    summary = str(handover.get("summary") or "")
    best_time = str(contact.get("best_time") or "")

    def any_in(items: Sequence[str], *texts: str) -> bool:
        joined = normalise(" \n ".join(texts))
        return any(normalise(item) in joined for item in items)

    if handover.get("channel") != channel:
        problems.append(("channel", f"expected {channel}, got {handover.get('channel')!r}"))
    if expect.level is not None and destination.get("level") != expect.level:
        problems.append(("level", f"expected {expect.level}, got {destination.get('level')!r}"))
    if expect.priority is not None and handover.get("priority") != expect.priority:
        problems.append(
            ("priority", f"expected {expect.priority}, got {handover.get('priority')!r}")
        )
    if expect.crisis is not None:
        crisis = (handover.get("crisis") or {}).get("type") or NO_CRISIS
        if crisis != expect.crisis:
            problems.append(("crisis", f"expected {expect.crisis}, got {crisis}"))
    if expect.municipality is not None:
        name = (handover.get("municipality") or {}).get("name", "")
        if normalise(name) != normalise(expect.municipality):
            problems.append(("municipality", f"expected {expect.municipality}, got {name!r}"))
    if expect.summary_says_any and not any_in(expect.summary_says_any, summary):
        problems.append(
            ("summary_says_any", f"none of {list(expect.summary_says_any)} in {summary!r}")
        )
    if expect.best_time_says_any and not any_in(expect.best_time_says_any, best_time):
        problems.append(
            ("best_time_says_any", f"none of {list(expect.best_time_says_any)} in {best_time!r}")
        )
    if expect.mentions_any and not any_in(
        expect.mentions_any, summary, best_time, str(destination.get("reason") or "")
    ):
        problems.append(
            (
                "mentions_any",
                f"none of {list(expect.mentions_any)} in summary {summary!r} "
                f"or best_time {best_time!r}",
            )
        )
    if expect.phone is not None and _digits(contact.get("phone")) != _digits(expect.phone):
        problems.append(("phone", f"expected {expect.phone}, got {contact.get('phone')!r}"))
    if expect.consent_withdrawn is not None:
        withdrawn = consent.get("withdrawn_at") is not None
        if withdrawn != expect.consent_withdrawn:
            problems.append(
                ("consent_withdrawn", f"expected {expect.consent_withdrawn}, got {withdrawn}")
            )
    if expect.application is not None:
        problems.extend(_check_application(expect.application, handover.get("application")))
    if expect.transcript_not_says:
        for view, texts in (transcripts or {}).items():
            joined = normalise("\n".join(texts))
            found = [item for item in expect.transcript_not_says if normalise(item) in joined]
            if found:
                problems.append(("transcript_not_says", f"{view} transcript contains {found}"))
    return problems


def _check_application(
    expect: Mapping[str, Any] | str, application: Mapping[str, Any] | None
) -> list[tuple[str, str]]:
    if expect == NO_CRISIS:
        return [] if application is None else [("application", f"expected none: {application}")]
    assert isinstance(expect, Mapping)
    if application is None:
        return [("application", "expected an application, the handover has none")]
    problems = []
    for key in ("type", "complete"):
        if key in expect and application.get(key) != expect[key]:
            problems.append(
                (f"application.{key}", f"expected {expect[key]!r}, got {application.get(key)!r}")
            )
    got = application.get("fields") or {}
    for name, value in (expect.get("fields") or {}).items():
        if got.get(name) != value:
            problems.append(
                (f"application.fields.{name}", f"expected {value!r}, got {got.get(name)!r}")
            )
    return problems


# --- running a conversation --------------------------------------------------------------------

Send = Callable[[str, str, str], list[dict[str, Any]]]  # (sender, text, channel) -> messages
TokenFor = Callable[[str], str]  # organisation id -> bearer token of a staff user


def _request(
    method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 60
) -> Any:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read().decode("utf-8") or "null")


def rest_sender(rasa_url: str) -> Send:
    """Talks to Rasa's REST channel, declaring the resident's channel in the metadata."""
    url = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook"

    def send(sender: str, text: str, channel: str) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text, "metadata": {"channel": channel}}
        return list(_request("POST", url, body) or [])

    return send


@dataclass
class ConversationResult:
    """What happened in one conversation and which expectations failed."""

    conversation: Conversation
    sender: str
    replies: list[BotReply] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    reference: str | None = None
    handover: dict[str, Any] | None = None
    handover_checked: bool = False
    seconds: list[float] = field(default_factory=list)  # per turn: message sent -> reply

    @property
    def passed(self) -> bool:
        return not self.failures

    def failing_turns(self) -> list[int]:
        return sorted({f.turn for f in self.failures if f.turn is not None})

    def report(self) -> str:
        """The whole conversation, with every failure under the turn it belongs to."""
        conv = self.conversation
        status = "passed" if self.passed else f"FAILED ({len(self.failures)} problems)"
        lines = [
            f"{conv.id} [{conv.pattern}, {conv.channel}] {conv.about} -- {status}",
            f"  sender {self.sender}, file {conv.source}",
        ]
        for i, turn in enumerate(conv.turns, 1):
            lines.append(f"  {i}. USER: {turn.user}")
            if i <= len(self.replies):
                reply = self.replies[i - 1]
                for message in reply.messages:
                    lines.extend(_message_lines(message))
                if not reply.messages:
                    lines.append("       BOT: <no reply>")
            else:
                lines.append("       (not sent)")
            for failure in self.failures:
                if failure.turn == i:
                    lines.append(f"     x {failure.expectation}: {failure.detail}")
        handover_failures = [f for f in self.failures if f.turn is None]
        if conv.handover is not None:
            state = f"reference {self.reference}" if self.reference else "no reference printed"
            if not self.handover_checked:
                state += " (handover API not checked)"
            lines.append(f"  handover: {state}")
        for failure in handover_failures:
            lines.append(f"     x {failure.expectation}: {failure.detail}")
        return "\n".join(lines)


def _message_lines(message: Mapping[str, Any]) -> list[str]:
    text = str(message.get("text") or "")
    lines = [
        f"       BOT: {line}" if i == 0 else f"            {line}"
        for i, line in enumerate(text.splitlines() or [""])
    ]
    buttons = [f"{b.get('title')} -> {b.get('payload')}" for b in message.get("buttons") or []]
    if buttons:
        lines.append("            [" + " | ".join(buttons) + "]")
    return lines


def find_handover(
    api_url: str, token: str, reference: str, attempts: int = 10, wait_s: float = 1.0
) -> dict[str, Any] | None:
    """The handover with `reference` in the organisation's list (polls a little: a handover
    queued while the API was busy arrives shortly after the reference is printed)."""
    for attempt in range(attempts):
        page = 1
        while True:
            query = urllib.parse.urlencode({"page": page, "page_size": 100})
            listing = _request("GET", f"{api_url}/api/v1/handovers?{query}", token=token)
            for item in listing.get("items", []):
                if item.get("reference") == reference:
                    return dict(item)
            if page * int(listing.get("page_size", 100)) >= int(listing.get("total", 0)):
                break
            page += 1
        if attempt + 1 < attempts:
            time.sleep(wait_s)
    return None


def transcript_texts(api_url: str, token: str, handover_id: str) -> dict[str, list[str]]:
    """Event texts of the handover's transcript per view (a refused view is left out)."""
    views: dict[str, list[str]] = {}
    for view in ("redacted", "full"):
        url = f"{api_url}/api/v1/handovers/{handover_id}/transcript?view={view}"
        try:
            body = _request("GET", url, token=token)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                continue
            raise
        views[view] = [str(e.get("text") or "") for e in body.get("events", [])]
    return views


def run_conversation(
    conversation: Conversation,
    rasa_url: str | None = None,
    *,
    api_url: str | None = None,
    token_for: TokenFor | None = None,
    send: Send | None = None,
    sender: str | None = None,
) -> ConversationResult:
    """Plays `conversation` under a fresh sender id and checks every expectation.

    The handover is checked when the conversation expects one and `api_url` and `token_for`
    are given. `send` replaces the REST channel (for tests of the suite itself).
    """
    if send is None:
        if rasa_url is None:
            raise ValueError("give rasa_url or send")
        send = rest_sender(rasa_url)
    sender = sender or f"conv-{conversation.id}-{uuid.uuid4().hex[:10]}"
    result = ConversationResult(conversation=conversation, sender=sender)
    previous: BotReply | None = None
    for i, turn in enumerate(conversation.turns, 1):
        started = time.perf_counter()
        try:
            reply = BotReply(tuple(send(sender, turn.user, conversation.channel)))
        except (OSError, ValueError) as exc:  # URLError/HTTPError are OSErrors
            result.failures.append(Failure(i, "send", f"{type(exc).__name__}: {exc}"))
            return result
        result.seconds.append(time.perf_counter() - started)
        result.replies.append(reply)
        expect = turn.expect.merged(conversation.every_turn)
        for name, detail in evaluate(expect, reply, conversation.channel, previous):
            result.failures.append(Failure(i, name, detail, reply.text))
        for match in REFERENCE_RE.finditer(reply.text):
            result.reference = match.group(0)
        previous = reply
    if conversation.handover is not None and api_url and token_for:
        _check_handover_through_api(result, conversation.handover, api_url.rstrip("/"), token_for)
    return result


def _check_handover_through_api(
    result: ConversationResult, expect: HandoverExpectation, api_url: str, token_for: TokenFor
) -> None:
    result.handover_checked = True
    if result.reference is None:
        result.failures.append(Failure(None, "handover", "the bot printed no reference VD-..."))
        return
    organisation = resolve_organisation(expect.organisation)
    try:
        token = token_for(organisation)
        handover = find_handover(api_url, token, result.reference)
        if handover is None:
            result.failures.append(
                Failure(None, "handover", f"{result.reference} is not in {organisation}'s list")
            )
            return
        if expect.application is not None and "application" not in handover:
            handover = _request("GET", f"{api_url}/api/v1/handovers/{handover['id']}", token=token)
        result.handover = handover
        transcripts = (
            transcript_texts(api_url, token, str(handover["id"]))
            if expect.transcript_not_says
            else None
        )
    except (OSError, ValueError) as exc:
        result.failures.append(Failure(None, "handover", f"{type(exc).__name__}: {exc}"))
        return
    for name, detail in check_handover(expect, handover, result.conversation.channel, transcripts):
        result.failures.append(Failure(None, name, detail))


# --- summaries -----------------------------------------------------------------------------------


def pass_rates(results: Iterable[ConversationResult]) -> dict[str, tuple[int, int]]:
    """pattern -> (passed, total), plus "overall"."""
    rates: dict[str, tuple[int, int]] = {}
    all_results = list(results)
    for pattern in PATTERN_MINIMUMS:
        mine = [r for r in all_results if r.conversation.pattern == pattern]
        if mine:
            rates[pattern] = (sum(r.passed for r in mine), len(mine))
    rates["overall"] = (sum(r.passed for r in all_results), len(all_results))
    return rates
