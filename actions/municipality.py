"""Knowing where the resident lives, from whatever they typed: an entity the NLU found, a
postcode, a place name, or the whole message when we just asked for it."""

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.regions import Municipality, RegionConfig

LOCATION_ENTITIES = ("gemeente", "postcode")


def known_municipality(tracker: Tracker, regions: RegionConfig) -> Municipality | None:
    code = tracker.get_slot("gemeente_code")
    if not code:
        return None
    try:
        return regions.municipality(code)
    except KeyError:
        return None


def municipality_from_message(
    tracker: Tracker, regions: RegionConfig, *, use_text: bool = False
) -> Municipality | None:
    """The municipality named in the latest message, if any."""
    for entity in tracker.latest_message.get("entities", []):
        if entity.get("entity") in LOCATION_ENTITIES and entity.get("value"):
            found = regions.find_municipality(str(entity["value"]))
            if found:
                return found
    if use_text:
        return regions.find_municipality(tracker.latest_message.get("text") or "")
    return None


def municipality_slots(municipality: Municipality) -> list[SlotSet]:
    return [SlotSet("gemeente", municipality.name), SlotSet("gemeente_code", municipality.code)]


def outside_place(tracker: Tracker, regions: RegionConfig) -> str | None:
    """A Dutch municipality or place outside the configured regions named in the latest
    message ("ik woon in Amsterdam"), unless the message also names one inside them."""
    candidates = [
        str(e["value"])
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "gemeente" and e.get("value")
    ]
    candidates.append(tracker.latest_message.get("text") or "")
    for candidate in candidates:
        found = regions.outside_place(candidate)
        if found:
            return str(found)
    return None
