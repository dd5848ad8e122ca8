"""Crisis: answer at once with the right national number, then offer an urgent handover.

The NLU component bot.components.life_domains.LifeDomainExtractor sets the intent `crisis` and an
entity `crisis` (value: suicidaliteit | huiselijk_geweld | acute_dakloosheid | medisch_spoed, plus
`third_party`). The numbers come first, in calm B1 Dutch; each text fits in 2 SMS segments.

- The resident is in danger: the number, then "shall a professional call you, with priority?".
  `crisis_type` makes routing send the handover to the local team, urgent (actions/routing.py).
- Someone else is in danger (`third_party`): the numbers and how to report (Veilig Thuis); the
  offer is to talk it over with a professional. Nothing about the resident is shared unless they
  accept and go through the consent form.
- A handover form is already running: no second offer; it gets priority and the form goes on.

`urgency_events` turns an `urgentie` entity (threatened eviction or cut-off of energy/water) into
`urgent_signal`, which makes any handover urgent; actions/situation.py and the knowledge answers
can add its events to theirs.
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import YES_NO, channel_of, choice_message

CRISIS_ENTITY = "crisis"
URGENCY_ENTITY = "urgentie"
CRISIS_TYPES = ("suicidaliteit", "huiselijk_geweld", "acute_dakloosheid", "medisch_spoed")

# Spelled `response="..."` so that tests/data/test_training_data.py sees these responses used.
ANSWERS: dict[tuple[str, bool], dict[str, str]] = {
    ("suicidaliteit", False): dict(response="utter_crisis_suicidaliteit"),
    ("suicidaliteit", True): dict(response="utter_crisis_suicidaliteit_derde"),
    ("huiselijk_geweld", False): dict(response="utter_crisis_huiselijk_geweld"),
    ("huiselijk_geweld", True): dict(response="utter_crisis_huiselijk_geweld_derde"),
    ("acute_dakloosheid", False): dict(response="utter_crisis_acute_dakloosheid"),
    ("acute_dakloosheid", True): dict(response="utter_crisis_acute_dakloosheid_derde"),
    ("medisch_spoed", False): dict(response="utter_crisis_medisch_spoed"),
    ("medisch_spoed", True): dict(response="utter_crisis_medisch_spoed"),
}
GENERAL_ANSWER = dict(response="utter_crisis_algemeen")  # crisis intent without a known type

OFFER_SELF = "Wilt u dat een medewerker van uw gemeente u met voorrang belt?"
OFFER_THIRD_PARTY = (
    "Wilt u hier zelf over praten met een medewerker van de gemeente? Ik deel niets zonder uw "
    "toestemming."
)
OFFER_AFTER_EMERGENCY = "Wilt u daarna hulp van een medewerker van uw gemeente, met voorrang?"
DURING_FORM = "Uw vraag krijgt voorrang. Ik stel nog een paar korte vragen."


def crisis_of(tracker: Tracker) -> tuple[str | None, bool]:
    """(crisis type, third party?) from the latest message's `crisis` entity."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == CRISIS_ENTITY and entity.get("value") in CRISIS_TYPES:
            return str(entity["value"]), bool(entity.get("third_party", False))
    return None, False


def urgency_events(tracker: Tracker) -> list[EventType]:
    """`urgent_signal` true when the latest message names a threatened eviction or cut-off."""
    entities = tracker.latest_message.get("entities") or []
    if any(e.get("entity") == URGENCY_ENTITY for e in entities):
        return [SlotSet("urgent_signal", True)]
    return []


class ActionCrisisResponse(Action):
    def name(self) -> str:
        return "action_crisis_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        crisis_type, third_party = crisis_of(tracker)
        answer = (
            ANSWERS.get((crisis_type, third_party), GENERAL_ANSWER)
            if crisis_type
            else (GENERAL_ANSWER)
        )
        dispatcher.utter_message(**answer)

        # imported here: actions/situation.py may import urgency_events from this module
        from actions.situation import accumulate_domains

        domains, evidence = accumulate_domains(tracker)
        events: list[EventType] = [
            SlotSet("crisis_type", crisis_type or tracker.get_slot("crisis_type") or "onbekend"),
            SlotSet("urgent_signal", True),
            SlotSet("leefgebieden", domains),
            SlotSet("leefgebied_bewijs", evidence),
        ]
        if tracker.active_loop_name:
            # A handover is already being prepared: it becomes urgent, the form goes on.
            dispatcher.utter_message(text=DURING_FORM)
            return events
        if third_party:
            offer = OFFER_THIRD_PARTY
        elif crisis_type == "medisch_spoed":
            offer = OFFER_AFTER_EMERGENCY
        else:
            offer = OFFER_SELF
        dispatcher.utter_message(**choice_message(offer, YES_NO, channel_of(tracker)))
        return [*events, SlotSet("handover_offered", True)]
