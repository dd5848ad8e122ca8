"""Starting an application, and what the conversation already told for it.

A resident never gives the same data twice: a municipality, cost, household, debt, threat or
contact moment told before the application starts is taken over here, shown in the summary
to be confirmed, and not asked again. Only what a parser reads with certainty is taken over;
anything unsure is asked.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.application import (
    TOLD_SLOT,
    TYPE_SLOT,
    WANTED_SLOT,
    catalogue,
    parse,
    regeling_choices,
)
from actions.channels import channel_of, choice_message
from actions.municipality import known_municipality, municipality_from_message
from actions.regions import load_regions
from actions.replies import Kind, asks_to_apply, best_time_hint, forbids_calls, read_reply
from actions.routing import route_for, who_receives
from actions.signals import SERVICE_FOR_REGELING, latest_intent, latest_text
from actions.transcript import user_messages
from applications import parsers

REGELING_OF_SERVICE = {service: regeling for regeling, service in SERVICE_FOR_REGELING.items()}
REGELING_OF_SERVICE["bijstand"] = "bijstand"
_COST = re.compile(
    r"\b(?:voor|kosten van|geld voor|betalen van|vergoeding voor) (?:een |de |het |mijn |m'n |"
    r"mn )?(?P<item>(?:nieuwe |tweedehands )?[a-zà-ÿ-]{3,}(?: [a-zà-ÿ-]{3,})?)"
)
_COST_ITEMS = re.compile(
    r"\b(?:wasmachine|wasmachien|koelkast|vriezer|fornuis|kookplaat|bril|lenzen|bed|matras|"
    r"bank|stoelen|laptop|computer|tandarts|gebit|kunstgebit|gehoorapparaat|verhuiskosten|"
    r"verhuizing|inrichting|bewindvoering|bewindvoerder|kinderopvang|reiskosten|rolstoel|"
    r"dieet|eigen risico|begrafenis|uitvaart)\w*"
)
_NOT_A_COST = re.compile(
    r"^(?:bijzondere|bijstand|hulp|aanvraag|mij|mijzelf|mezelf|ons|de|een|het|iets|wat|die|"
    r"gemeente|u|jullie|mijn|uitkering)\b"
)
_HOUSEHOLD = re.compile(
    r"\b(?:kind|kinderen|kids|zoon|zonen|dochter|dochters|baby|alleenstaand\w*|partner|"
    r"getrouwd|samenwonend|vrouw|man|vriend|vriendin|gezin|woon alleen)\b"
)
_DEBT = re.compile(r"\b(?:schuld|schulden|achterstand|openstaand|terugbetalen|betalen)\b")
_ACTIVITY = re.compile(
    r"\b(?:voetbal|zwemles|zwemmen|zwemdiploma|muziekles|pianoles|gitaarles|dansles|dansen|"
    r"judo|karate|hockey|tennis|turnen|gym|scouting|atletiek|basketbal|handbal|volleybal|"
    r"korfbal|paardrijden|schaken|toneel|theater|tekenles|museum)\w*"
)
# "voor mijn moeder": the help is for someone else ("mijn man is ziek" alone does not say so).
_FOR_OTHER = re.compile(
    r"\b(?:voor|namens) (?:mijn|mn|m'n|onze|ons) (?:moeder|vader|ouders|oma|opa|zoon|dochter|"
    r"man|vrouw|partner|broer|zus|buurman|buurvrouw|vriend|vriendin|schoonmoeder|schoonvader)\b|"
    r"\bvoor iemand anders\b"
)
_THREATS = {
    "dreigende_uitzetting": "uitzetting",
    "dreigende_afsluiting": "afsluiting",
}


def wanted_regeling(tracker: Tracker) -> tuple[bool, str | None]:
    """(wants to apply?, for which regeling if known)."""
    text = latest_text(tracker)
    if latest_intent(tracker) != "apply" and not asks_to_apply(text):
        return False, None
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "regeling" and entity.get("value") in SERVICE_FOR_REGELING:
            return True, str(entity["value"])
    regeling = tracker.get_slot("regeling")
    if regeling in SERVICE_FOR_REGELING:
        return True, str(regeling)
    service = tracker.get_slot("service")
    return True, REGELING_OF_SERVICE.get(str(service)) if service else None


def start_application(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The events that make the handover form an application, with the intro; None when the
    resident asked for a person, not to apply."""
    wanted, regeling = wanted_regeling(tracker)
    if not wanted:
        return None
    if regeling is None:
        dispatcher.utter_message(
            text="Goed, ik help u met uw aanvraag. Ik stel een paar korte vragen, één voor één. "
            "U kunt altijd 'stop' typen."
        )
        return [SlotSet(WANTED_SLOT, True), SlotSet(TYPE_SLOT, None)]
    title = catalogue().regeling(regeling).title.lower()
    receiver = _receiver(tracker, regeling)
    intro = (
        f"Goed, ik zet uw {title} klaar{f' voor {receiver}' if receiver else ''}. Ik stel een "
        "paar korte vragen, één voor één. Daarna ziet u alles nog een keer. U kunt altijd "
        "'stop' typen."
    )
    return application_chosen(dispatcher, tracker, regeling, intro)


def _receiver(tracker: Tracker, regeling: str) -> str | None:
    """Who will receive the application, when the municipality is already known: the
    resident hears it at once (the consent question names it again)."""
    regions = load_regions()
    municipality = known_municipality(tracker, regions) or municipality_from_message(
        tracker, regions
    )
    if municipality is None:
        return None
    with_regeling = tracker.copy()
    with_regeling.slots["regeling"] = regeling
    return who_receives(route_for(with_regeling, regions, municipality.code))


def application_chosen(
    dispatcher: CollectingDispatcher, tracker: Tracker, regeling: str, intro: str
) -> list[EventType]:
    """The regeling is known (named, or chosen at "Wat wilt u aanvragen?"): what the
    conversation already told is taken over, and the resident hears which of it."""
    told = told_before(tracker, regeling)
    if told:
        labels = [catalogue().fields[name].label.lower() for name in told]
        intro += f" Wat u al vertelde ({', '.join(labels)}) hoeft u niet opnieuw te zeggen."
    dispatcher.utter_message(text=intro)
    return [
        SlotSet(WANTED_SLOT, True),
        SlotSet(TYPE_SLOT, regeling),
        SlotSet("regeling", regeling),
        *(SlotSet(catalogue().fields[name].slot, value) for name, value in told.items()),
        SlotSet(TOLD_SLOT, list(told)),
    ]


def told_before(tracker: Tracker, regeling: str) -> dict[str, Any]:
    """Field values the resident already gave in this conversation, for this regeling."""
    texts = user_messages(tracker)
    # every field this regeling may ask (a minimaregeling's own ones included)
    spec = catalogue().regeling(regeling)
    names = {*spec.fields, *(n for extra in spec.per_soort.values() for n in extra)}
    found: dict[str, Any] = {}
    for name, value in (
        ("naam", _name(tracker)),
        ("kosten_omschrijving", _cost_item(texts)),
        ("huishouden", _household(texts)),
        ("schuld_totaal", _debt_total(texts)),
        ("dreiging", _threat(tracker)),
        ("minimaregeling_soort", _soort(texts)),
        ("activiteit", _activity(texts)),
        ("hulp_voor", "ander" if any(_FOR_OTHER.search(t.lower()) for t in texts) else None),
        ("hulpvraag", _help_named(tracker)),
        ("contactvoorkeur", _channel_preference(tracker, texts)),
        ("contactmoment", _moment(tracker, texts)),
    ):
        if value is not None and name in names:
            found[name] = value
    # Earlier answers in this conversation (a previous application) are reused as well.
    for field in catalogue().fields_of(regeling, found.get("minimaregeling_soort")):
        earlier = tracker.get_slot(field.slot)
        if field.name not in found and earlier is not None and earlier != "weet_ik_niet":
            found[field.name] = earlier
    return found


def _name(tracker: Tracker) -> str | None:
    name = tracker.get_slot("contact_name")
    if not name:
        return None
    result = parsers.parse_name(str(name))
    return result.value if result.ok else None


def _help_named(tracker: Tracker) -> str | None:
    """ "ik wil [een traplift] aanvragen": the help itself, as the resident named it (the words
    the NLU marked as the regeling wmo), when that is more than the word 'wmo'."""
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "")
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            start, end = entity.get("start"), entity.get("end")
            if entity.get("entity") != "regeling" or entity.get("value") != "wmo":
                continue
            if isinstance(start, int) and isinstance(end, int):
                words = text[start:end].strip()
                if len(words) > 4 and "wmo" not in words.lower():
                    return words
    return None


def _cost_item(texts: list[str]) -> str | None:
    for text in texts:
        clean = text.lower()
        known = _COST_ITEMS.search(clean)
        if known:
            return known.group(0).replace("wasmachien", "wasmachine")
        match = _COST.search(clean)
        if match and not _NOT_A_COST.match(match.group("item")):
            return match.group("item")
    return None


def _household(texts: list[str]) -> dict[str, Any] | None:
    field = catalogue().fields["huishouden"]
    for text in texts:
        for sentence in re.split(r"[.!?\n]+", text):
            if _HOUSEHOLD.search(sentence.lower()):
                result = parse(field, sentence)
                if result.ok:
                    return dict(result.value)
    return None


def _debt_total(texts: list[str]) -> str | None:
    field = catalogue().fields["schuld_totaal"]
    for text in texts:
        for sentence in re.split(r"[.!?\n,]+", text):
            if _DEBT.search(sentence.lower()) and re.search(r"\d|duizend|honderd", sentence):
                result = parse(field, sentence)
                if result.ok:
                    return str(result.value)
    return None


def _threat(tracker: Tracker) -> str | None:
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            if entity.get("entity") == "urgentie" and entity.get("value") in _THREATS:
                return _THREATS[str(entity["value"])]
    return None


def _soort(texts: list[str]) -> str | None:
    field = catalogue().fields["minimaregeling_soort"]
    for text in texts:
        if re.fullmatch(r"\W*\d+\W*", text):
            continue  # a number picks from a list shown, never from a story
        result = parsers.parse_choice(text, field.options)
        if result.ok:
            return str(result.value)
    return None


def _activity(texts: list[str]) -> str | None:
    for text in texts:
        match = _ACTIVITY.search(text.lower())
        if match:
            return match.group(0)
    return None


def _channel_preference(tracker: Tracker, texts: list[str]) -> str | None:
    channel = channel_of(tracker)
    if channel in ("sms", "whatsapp"):
        return channel
    if any(forbids_calls(t) for t in texts):
        return "sms"
    return None


def _moment(tracker: Tracker, texts: list[str]) -> str | None:
    said = tracker.get_slot("safe_contact") or best_time_hint(texts)
    if not said:
        return None
    result = parse(catalogue().fields["contactmoment"], str(said))
    return str(result.value) if result.ok else None


def extract_regeling(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """The answer to "Wat wilt u aanvragen?"; "iets anders" makes it a plain handover."""
    text = latest_text(tracker)
    if latest_intent(tracker) == "crisis":
        return {}
    options = {key: (r.label, *r.words) for key, r in catalogue().regelingen.items()}
    found = parsers.parse_choice(text, options)
    if found.ok:
        chosen = application_chosen(
            dispatcher, tracker, str(found.value), "Goed. Dan stel ik de vragen daarvoor."
        )
        return {e["name"]: e["value"] for e in chosen}
    reply = read_reply(text, latest_intent(tracker))
    if reply.kind is Kind.STOP:
        return {"handover_cancelled": True}
    if parsers.is_skip(text) or reply.kind is Kind.NO or "anders" in text.lower():
        dispatcher.utter_message(
            text="Goed. Dan vraag ik alleen wat nodig is om een medewerker contact met u te "
            "laten opnemen."
        )
        return {WANTED_SLOT: False}
    dispatcher.utter_message(
        **choice_message(
            "Kies een van deze, of typ 'iets anders'.", regeling_choices(), channel_of(tracker)
        )
    )
    return {TYPE_SLOT: None}
