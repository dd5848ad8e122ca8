"""What the NLU found in the latest message that several conversation steps react to: a crisis
(type, and whether it concerns someone else), an urgency (eviction, cut-off) and life domains.

One module that the crisis, situation, knowledge and dialogue actions all read from, so that
none of them has to import another action module.
"""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

CRISIS_ENTITY = "crisis"
URGENCY_ENTITY = "urgentie"
LIFE_DOMAIN_ENTITY = "leefgebied"
CRISIS_TYPES = ("suicidaliteit", "huiselijk_geweld", "acute_dakloosheid", "medisch_spoed")


def crisis_of(tracker: Tracker) -> tuple[str | None, bool]:
    """(crisis type, third party?) from the latest message's `crisis` entity."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == CRISIS_ENTITY and entity.get("value") in CRISIS_TYPES:
            return str(entity["value"]), bool(entity.get("third_party", False))
    return None, False


def crisis_is_inferred(tracker: Tracker) -> bool:
    """The crisis came from the similarity net (hinted at, not said): less sure who it is about."""
    return any(
        e.get("entity") == CRISIS_ENTITY and e.get("source") == "similarity"
        for e in tracker.latest_message.get("entities") or []
    )


def urgency_events(tracker: Tracker) -> list[EventType]:
    """`urgent_signal` true when the latest message names a threatened eviction or cut-off."""
    entities = tracker.latest_message.get("entities") or []
    if any(e.get("entity") == URGENCY_ENTITY for e in entities):
        return [SlotSet("urgent_signal", True)]
    return []


def accumulate_domains(
    tracker: Tracker,
) -> tuple[list[str], dict[str, list[str]]]:
    """Life domains of the whole conversation so far, plus this message's, with evidence."""
    domains: list[str] = list(tracker.get_slot("leefgebieden") or [])
    evidence: dict[str, list[str]] = dict(tracker.get_slot("leefgebied_bewijs") or {})
    text = tracker.latest_message.get("text") or ""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") != LIFE_DOMAIN_ENTITY:
            continue
        code = str(entity.get("value"))
        if code not in domains:
            domains.append(code)
        start, end = entity.get("start"), entity.get("end")
        words = text[start:end] if isinstance(start, int) and isinstance(end, int) else code
        if words and words not in evidence.setdefault(code, []):
            evidence[code].append(words)
    return domains, evidence


def latest_intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


# What each application (entity `regeling`) asks of the municipality: the service it goes to.
SERVICE_FOR_REGELING = {
    "bijstand": "bijstand_intake",
    "bijzondere_bijstand": "bijzondere_bijstand",
    "schuldhulp": "schuldhulp",
    "wmo": "wmo",
    "minimaregeling": "minimaregelingen",
}


# Without a question or application: the life domain the resident talked about decides, as
# in the access model (work & income questions go straight to the regional organisation).
SERVICE_FOR_DOMAIN = {
    "inkomen": "bijstand_intake",
    "schulden": "schuldhulp",
    "werk_opleiding": "werk",
    "adl": "wmo",
    "opvoeding": "jeugd",
}


def requested_service(tracker: Tracker) -> str | None:
    """What the resident wants help with: an application named, else the last topic asked,
    else the first life domain they told about that has a service of its own."""
    regeling = tracker.get_slot("regeling")
    if regeling in SERVICE_FOR_REGELING:
        return SERVICE_FOR_REGELING[regeling]
    service = tracker.get_slot("service")
    if service:
        return str(service)
    for domain in tracker.get_slot("leefgebieden") or []:
        if domain in SERVICE_FOR_DOMAIN:
            return SERVICE_FOR_DOMAIN[domain]
    return None


def said_this_turn(tracker: Tracker) -> list[str]:
    """What the assistant already said since the resident's latest message (earlier actions of
    the same turn), so that a warning is not given twice."""
    said: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            said.append(str(event.get("text") or ""))
    return said
