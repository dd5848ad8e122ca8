"""Facts a resident mentions in passing — where they live, their age — are remembered at once,
whatever step of the conversation they come up in, so that nothing is asked twice ("wij wonen
in harmelen en ..." in a long story is the municipality)."""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.municipality import municipality_from_message, municipality_slots
from actions.regions import load_regions
from actions.replies import age_of
from actions.signals import latest_text


def remember_facts(tracker: Tracker) -> list[EventType]:
    """Slot events for a municipality or age named in the latest message (if new)."""
    events: list[EventType] = []
    found = municipality_from_message(tracker, load_regions(), use_text=True)
    if found is not None and found.code != tracker.get_slot("gemeente_code"):
        events += municipality_slots(found)
    age = age_of(latest_text(tracker))
    if age is not None:
        events.append(SlotSet("leeftijd", age))
    return events
