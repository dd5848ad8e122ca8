"""Knowledge base: sourced, dated answers to the residents' information questions.

Every answer lives in ``data/knowledge/<topic>.yml`` with its legal sources and the date it was
last checked, because norms and rules change (every 1 January and 1 July, and step by step
from 2026 with the Participatiewet in balans). Texts are national by default; a region or a
single municipality overrides parts of it, and placeholders such as ``{regio_organisatie}``
are filled from the region configuration so that one text routes correctly everywhere.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, validator

from actions.aspects import ASPECTS
from actions.config import get_settings
from actions.datafiles import DataFileError, parse_file
from actions.regions import Contact, Municipality, RegionConfig, Service

SHORT_CHANNELS = frozenset({"sms", "whatsapp"})  # get the sms text (<= 2 GSM segments)
SMS_MAX_CHARS = 306  # 2 concatenated GSM-7 segments of 153 characters
CHAT_MAX_WORDS = 80

PLACEHOLDERS = frozenset(
    {
        "gemeente",  # municipality name; write "de gemeente {gemeente}"
        "regio_organisatie",  # who handles work & income (bijstand intake) for the municipality
        "uitvoerder",  # who handles the entry's own service (needs `service`)
        "lokaal_team",  # the municipality's local (WMO/jeugd) team
        "telefoon_gemeente",
        "website_gemeente",
        "werkgeversservicepunt",
        "sw_bedrijf",  # the region's sheltered-work company
        "jongerenloket",  # the region's desk for young people, else the work & income org
    }
)
# Used when the municipality is unknown: each reads correctly where the placeholder stands
# ("de gemeente {gemeente}" -> "de gemeente waar u woont").
FALLBACKS = {
    "gemeente": "waar u woont",
    "regio_organisatie": "de afdeling werk en inkomen van uw gemeente",
    "uitvoerder": "uw gemeente",
    "lokaal_team": "het sociaal team of wijkteam van uw gemeente",
    "telefoon_gemeente": "het algemene nummer van uw gemeente",
    "website_gemeente": "de website van uw gemeente",
    "werkgeversservicepunt": "het werkgeversservicepunt in uw regio",
    "sw_bedrijf": "een sw-bedrijf in de regio",
    "jongerenloket": "de afdeling werk en inkomen van uw gemeente",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)$")
_GSM7 = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = "^{}\\[~]|€\f"


class KnowledgeError(DataFileError):
    """A knowledge file is invalid; ``file`` and ``field`` say where."""


def gsm7_length(text: str) -> int | None:
    """Length in GSM-7 septets (extension characters count 2), or None if the text needs
    UCS-2 (e.g. 'ë', curly quotes), which would cut an SMS segment to 67 characters."""
    length = 0
    for char in text:
        if char in _GSM7:
            length += 1
        elif char in _GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


class _Model(BaseModel):
    class Config:
        extra = "forbid"
        allow_mutation = False


class Source(_Model):
    title: str
    url: str | None = None
    article: str | None = None


class PartialAnswer(_Model):
    """An override: only the fields given replace the less specific text."""

    chat: str | None = None
    sms: str | None = None
    more: str | None = None
    link: str | None = None
    # One short fact per aspect of a follow-up question ("is dat gratis?" -> kosten); an
    # override replaces single facts, not the whole set.
    facts: dict[str, str] = {}

    @validator("facts")
    def _known_aspects(cls, value: dict[str, str]) -> dict[str, str]:
        for aspect in value:
            if aspect not in ASPECTS:
                raise ValueError(f"unknown aspect {aspect!r}; known: {', '.join(ASPECTS)}")
        return value


class AnswerTexts(PartialAnswer):
    chat: str
    sms: str


class Overrides(_Model):
    regions: dict[str, PartialAnswer] = {}
    municipalities: dict[str, PartialAnswer] = {}

    @validator("municipalities")
    def _cbs_codes(cls, value: dict[str, PartialAnswer]) -> dict[str, PartialAnswer]:
        for code in value:
            if not re.fullmatch(r"GM\d{4}", code):
                raise ValueError(f"not a CBS municipality code: {code!r}")
        return value


class Refinement(_Model):
    """A more specific entry that answers this entry's intent when the question's words say
    so: the contract's ask_bezwaar covers both objections and complaints, and a complaint
    deserves the klacht entry ("ik wil een klacht indienen over mijn klantmanager")."""

    topic: str
    words: str  # a regular expression, matched case-insensitively anywhere in the message

    @validator("words")
    def _compiles(cls, value: str) -> str:
        re.compile(value)
        return value


class Entry(_Model):
    id: str
    intents: list[str] = []
    title: str
    service: Service | None = None
    related: list[str] = []  # other topics this answer points to (e.g. minimaregelingen)
    refine: list[Refinement] = []
    sources: list[Source] = Field(..., min_items=1)
    checked: date
    verified: bool
    notes: str | None = None  # what is unverified, for the editor
    answer: AnswerTexts
    overrides: Overrides = Overrides()

    def depends_on_municipality(self) -> bool:
        """Whether the text differs per municipality (placeholders or overrides)."""
        texts = _texts(self.answer, self.overrides)
        return bool(self.overrides.regions or self.overrides.municipalities) or any(
            _PLACEHOLDER.search(text) for _, text in texts
        )


def _texts(answer: PartialAnswer, overrides: Overrides) -> list[tuple[str, str]]:
    """Every (field path, text) of an entry, for validation."""
    found = []
    layers = [("answer", answer)]
    layers += [(f"overrides.regions.{k}", v) for k, v in overrides.regions.items()]
    layers += [(f"overrides.municipalities.{k}", v) for k, v in overrides.municipalities.items()]
    for prefix, layer in layers:
        for field in ("chat", "sms", "more", "link"):
            text = getattr(layer, field)
            if text:
                found.append((f"{prefix}.{field}", text))
        found += [(f"{prefix}.facts.{k}", v) for k, v in layer.facts.items()]
    return found


class Answer(BaseModel):
    """A filled answer for one municipality and channel."""

    topic: str
    title: str
    text: str
    more: str | None = None
    link: str | None = None
    source: list[Source]
    checked: date
    verified: bool
    service: str | None = None
    related: list[str] = []
    needs_municipality: bool = False  # the text is generic because the municipality is unknown
    facts: dict[str, str] = {}  # aspect -> short fact, filled like the text


def _fill(text: str, values: dict[str, str]) -> str:
    """Replace placeholders; capitalise a value that starts a sentence ('het wijkteam' -> 'Het')."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(text[last : match.start()])
        value = values[match.group(1)]
        if _SENTENCE_START.search("".join(parts)):
            value = value[:1].upper() + value[1:]
        parts.append(value)
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


class KnowledgeBase:
    """All entries, by topic, with the intent -> topic map."""

    def __init__(self, entries: dict[str, Entry]) -> None:
        self.entries = entries
        self._intents = {intent: e.id for e in entries.values() for intent in e.intents}

    @property
    def topics(self) -> list[str]:
        return sorted(self.entries)

    def entry(self, topic: str) -> Entry:
        return self.entries[topic]

    def topic_for_intent(self, intent: str) -> str | None:
        """'ask_bijstand' -> 'bijstand'; None for intents without an entry."""
        return self._intents.get(intent)

    def topic_for(self, intent: str, text: str) -> str | None:
        """The entry answering ``intent`` for this message: a refinement whose words the
        message contains (ask_bezwaar + "klacht" -> klacht), else the intent's own entry."""
        topic = self._intents.get(intent)
        if topic is None:
            return None
        for refinement in self.entries[topic].refine:
            if re.search(refinement.words, text, re.IGNORECASE):
                return refinement.topic
        return topic

    def answer(
        self,
        topic: str,
        municipality: Municipality | None,
        regions: RegionConfig,
        channel: str = "web",
    ) -> Answer:
        """The answer for ``topic``: municipality override > region override > national text,
        placeholders filled; the sms text on sms/whatsapp, the chat text elsewhere."""
        entry = self.entries[topic]
        layers: list[PartialAnswer] = [entry.answer]
        if municipality is not None:
            region_layer = entry.overrides.regions.get(municipality.region_id)
            municipality_layer = entry.overrides.municipalities.get(municipality.code)
            layers += [x for x in (region_layer, municipality_layer) if x is not None]
        merged: dict[str, str | None] = {}
        facts: dict[str, str] = {}
        for layer in layers:
            merged.update({k: v for k, v in layer.dict().items() if v is not None and k != "facts"})
            facts.update(layer.facts)
        values = _values(entry, municipality, regions)
        text = merged["sms"] if channel in SHORT_CHANNELS else merged["chat"]
        more = merged.get("more")
        link = merged.get("link")
        if link and "{website_gemeente}" in link:
            link = _verified(municipality.contact, "website") or None if municipality else None
        return Answer(
            topic=entry.id,
            title=entry.title,
            text=_fill(text or "", values),
            more=_fill(more, values) if more else None,
            link=_fill(link, values) if link else None,
            source=entry.sources,
            checked=entry.checked,
            verified=entry.verified,
            service=entry.service,
            related=entry.related,
            needs_municipality=municipality is None and entry.depends_on_municipality(),
            facts={aspect: _fill(fact, values) for aspect, fact in facts.items()},
        )

    def validate_against(self, regions: RegionConfig) -> None:
        """Check overrides name configured regions/municipalities and every answer fills."""
        codes = {m.code for m in regions.municipalities}
        for entry in self.entries.values():
            file = f"{entry.id}.yml"
            for region_id in entry.overrides.regions:
                if region_id not in regions.regions:
                    raise KnowledgeError(file, f"overrides.regions.{region_id}", "unknown region")
            for code in entry.overrides.municipalities:
                if code not in codes:
                    raise KnowledgeError(
                        file, f"overrides.municipalities.{code}", "unknown municipality"
                    )
            for municipality in [None, *regions.municipalities]:
                for channel in ("web", "sms"):
                    self.answer(entry.id, municipality, regions, channel)


def _values(
    entry: Entry, municipality: Municipality | None, regions: RegionConfig
) -> dict[str, str]:
    """Placeholder values for the municipality; unverified contact details are left out."""
    if municipality is None:
        return dict(FALLBACKS)
    region = regions.region(municipality.region_id)
    work_income = regions.destination_for(municipality.code, "bijstand_intake").label
    values = dict(FALLBACKS)
    values.update(
        gemeente=municipality.name,
        regio_organisatie=work_income,
        lokaal_team=regions.team(municipality.local_team).name,
        telefoon_gemeente=_verified(municipality.contact, "phone")
        or FALLBACKS["telefoon_gemeente"],
        website_gemeente=re.sub(r"^https?://", "", _verified(municipality.contact, "website"))
        or FALLBACKS["website_gemeente"],
        werkgeversservicepunt=regions.team(region.employer_service).name,
        jongerenloket=regions.team(region.youth_desk).name if region.youth_desk else work_income,
    )
    if entry.service is not None:
        values["uitvoerder"] = regions.destination_for(municipality.code, entry.service).label
    if region.sheltered_work:
        values["sw_bedrijf"] = regions.organisation(region.sheltered_work).name
    return values


def _verified(contact: Contact, field: str) -> str:
    """A contact detail only when verified: a resident must never be sent to an example number."""
    value = getattr(contact, field) or ""
    return "" if contact.is_example(field) else value


def _load_file(path: Path) -> Entry:
    entry = parse_file(path, Entry, KnowledgeError)
    if entry.id != path.stem:
        raise KnowledgeError(path.name, "id", f"must equal the file name {path.stem!r}")
    _check_placeholders(path.name, entry)
    return entry


def _check_placeholders(file: str, entry: Entry) -> None:
    """Only known placeholders, balanced braces, and {uitvoerder} only with a service."""
    for field, text in _texts(entry.answer, entry.overrides):
        for name in _PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                raise KnowledgeError(file, field, f"unknown placeholder {{{name}}}")
            if name == "uitvoerder" and entry.service is None:
                raise KnowledgeError(file, field, "{uitvoerder} needs a `service`")
        rest = _PLACEHOLDER.sub("", text)
        if "{" in rest or "}" in rest:
            raise KnowledgeError(file, field, "unbalanced brace")


_CACHE: dict[Path, KnowledgeBase] = {}


def default_knowledge_dir() -> Path:
    """``$VOORDEUR_DATA_DIR/knowledge``, default ``<repo>/data/knowledge`` (``actions.config``)."""
    return get_settings().knowledge_dir


def load_knowledge(directory: os.PathLike[str] | str | None = None) -> KnowledgeBase:
    """Load and validate every ``*.yml`` in ``directory``; cached per resolved path.

    Raises KnowledgeError (file + field) on an invalid entry, an intent claimed by two
    entries, or a ``related`` topic that does not exist.
    """
    path = (Path(directory) if directory is not None else default_knowledge_dir()).resolve()
    if path in _CACHE:
        return _CACHE[path]
    entries: dict[str, Entry] = {}
    owner: dict[str, str] = {}
    for file in sorted(path.glob("*.yml")):
        entry = _load_file(file)
        for i, intent in enumerate(entry.intents):
            if intent in owner:
                raise KnowledgeError(
                    file.name, f"intents[{i}]", f"{intent} already answered by {owner[intent]}"
                )
            owner[intent] = entry.id
        entries[entry.id] = entry
    if not entries:
        raise KnowledgeError(str(path), "(directory)", "no knowledge files (*.yml)")
    for entry in entries.values():
        for i, topic in enumerate(entry.related):
            if topic not in entries:
                raise KnowledgeError(f"{entry.id}.yml", f"related[{i}]", f"unknown {topic!r}")
        for i, refinement in enumerate(entry.refine):
            if refinement.topic not in entries:
                raise KnowledgeError(
                    f"{entry.id}.yml", f"refine[{i}].topic", f"unknown {refinement.topic!r}"
                )
    _CACHE[path] = KnowledgeBase(entries)
    return _CACHE[path]


def clear_cache() -> None:
    """Forget loaded knowledge bases (tests, or a reload after editing YAML)."""
    _CACHE.clear()
