"""When the assistant does not understand: say so, and on the second time in a row offer a
person instead of letting the resident go round in circles."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import YES_NO, channel_of, choice_message

FALLBACK_INTENT = "nlu_fallback"


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row were not understood."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionNotUnderstood(Action):
    def name(self) -> str:
        return "action_not_understood"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if consecutive_fallbacks(tracker) < 2:
            dispatcher.utter_message(response="utter_default")
            return []
        dispatcher.utter_message(
            **choice_message(
                "Sorry, ik begrijp u nog steeds niet goed. Zal ik vragen of een medewerker "
                "contact met u opneemt?",
                YES_NO,
                channel_of(tracker),
            )
        )
        return [SlotSet("handover_offered", True)]
