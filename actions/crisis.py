"""Crisis: answer at once with the right national number, find out who is at risk, then offer
an urgent handover that knows when contact is safe.

The NLU component bot.components.life_domains.LifeDomainExtractor sets the intent `crisis` and an
entity `crisis` (value: suicidaliteit | huiselijk_geweld | acute_dakloosheid | medisch_spoed, plus
`third_party`). The numbers come first, in calm B1 Dutch; each text fits in 2 SMS segments.

- Clearly about the resident: the number for them, then "shall a professional help you, with
  priority?". `crisis_type` makes routing send the handover to the local team, urgent.
- Framed for someone else ("de pillen van mn moeder gespaard"): the numbers, then the question
  "Gaat het om uzelf?" — a resident who answers "nee het gaat om mij" gets the answer for
  themselves (actions/dialogue.py handles that reply).
- A handover form is already running: no second offer; it gets priority and the form goes on.
- The handover form asks when and how contact is safe: violence at home gets that question
  first, before anything else (never call unless the resident said when it is safe); other
  crises are asked for a good and safe moment with the phone number (actions/handover.py).
"""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import Choice
from actions.facts import remember_facts
from actions.municipality import known_municipality
from actions.pending import ask
from actions.regions import load_regions
from actions.signals import (
    CRISIS_TYPES,
    accumulate_domains,
    crisis_is_inferred,
    crisis_of,
    urgency_events,
)
from actions.way_forward import shelter_route

__all__ = ["CRISIS_TYPES", "ActionCrisisResponse", "urgency_events"]

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

OFFER_SELF = "Wilt u dat een medewerker van uw gemeente u met voorrang helpt?"
OFFER_VIOLENCE = (
    "Wilt u dat een medewerker van uw gemeente u met voorrang helpt? Ik vraag dan eerst "
    "wanneer en hoe contact veilig is voor u."
)
OFFER_THIRD_PARTY = (
    "Wilt u hier zelf over praten met een medewerker van de gemeente? Ik deel niets zonder uw "
    "toestemming."
)
OFFER_AFTER_EMERGENCY = "Wilt u daarna hulp van een medewerker van uw gemeente, met voorrang?"
DURING_FORM = "Uw vraag krijgt voorrang. Ik stel nog een paar korte vragen."
WHO_QUESTION = "Mag ik vragen: gaat het om uzelf, of om iemand anders?"
WHO_CHOICES: list[Choice] = [("Om mij", "/affirm"), ("Om iemand anders", "/deny")]
# For a worried relative or neighbour, after "om iemand anders": what they themselves can do.
FOR_SOMEONE_ELSE = {
    "suicidaliteit": (
        "Goed dat u zich zorgen maakt. 113 helpt ook naasten: bel gratis 113 of 0800-0113, of "
        "chat via 113.nl. Bij direct gevaar: bel 112."
    ),
    "huiselijk_geweld": (
        "U kunt Veilig Thuis bellen voor advies of een melding: 0800-2000, gratis, dag en "
        "nacht. Dat kan ook anoniem. Bij direct gevaar: bel 112."
    ),
    "acute_dakloosheid": (
        "Die persoon kan zelf de gemeente bellen, of u helpt daarbij. Het lokale team kan met "
        "voorrang helpen met een slaapplek. Bij gevaar: bel 112."
    ),
    "": "Goed dat u zich zorgen maakt. Bij direct gevaar: bel 112.",
}
# Types where the person at risk may be the resident even when the words name someone else.
ASK_WHO = ("suicidaliteit", "huiselijk_geweld", "acute_dakloosheid")


def offer_for(crisis_type: str | None, third_party: bool) -> str:
    if third_party:
        return OFFER_THIRD_PARTY
    if crisis_type == "medisch_spoed":
        return OFFER_AFTER_EMERGENCY
    if crisis_type == "huiselijk_geweld":
        return OFFER_VIOLENCE
    return OFFER_SELF


def answer_for_self(
    dispatcher: CollectingDispatcher, tracker: Tracker, crisis_type: str | None
) -> list[EventType]:
    """The answer for the resident themself, the shelter route when they have no bed tonight,
    and the urgent offer (a pending question)."""
    dispatcher.utter_message(**ANSWERS.get((crisis_type or "", False), GENERAL_ANSWER))
    if crisis_type == "acute_dakloosheid":
        regions = load_regions()
        dispatcher.utter_message(text=shelter_route(regions, known_municipality(tracker, regions)))
    return ask(dispatcher, tracker, "handover", offer_for(crisis_type, False))


class ActionCrisisResponse(Action):
    def name(self) -> str:
        return "action_crisis_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        crisis_type, third_party = crisis_of(tracker)
        domains, evidence = accumulate_domains(tracker)
        events: list[EventType] = [
            *remember_facts(tracker),
            SlotSet("crisis_type", crisis_type or tracker.get_slot("crisis_type") or "onbekend"),
            SlotSet("urgent_signal", True),
            SlotSet("leefgebieden", domains),
            SlotSet("leefgebied_bewijs", evidence),
        ]
        if tracker.active_loop_name:
            # A handover is already being prepared: it becomes urgent, the form goes on.
            dispatcher.utter_message(
                **ANSWERS.get((crisis_type or "", third_party), GENERAL_ANSWER)
            )
            dispatcher.utter_message(text=DURING_FORM)
            return events
        unsure_who = third_party or crisis_is_inferred(tracker)
        if crisis_type is None or (unsure_who and crisis_type in ASK_WHO):
            # Framed for someone else, or too vague to tell: the numbers as framed, then ask who
            # is at risk (a hint without "iemand" gets the text for the resident themself).
            answer = ANSWERS.get((crisis_type or "", third_party), GENERAL_ANSWER)
            dispatcher.utter_message(**answer)
            return [
                *events,
                *ask(dispatcher, tracker, "crisis_who", WHO_QUESTION, WHO_CHOICES),
            ]
        if third_party:
            dispatcher.utter_message(**ANSWERS.get((crisis_type or "", True), GENERAL_ANSWER))
            return [*events, *ask(dispatcher, tracker, "handover", offer_for(crisis_type, True))]
        return [*events, *answer_for_self(dispatcher, tracker, crisis_type)]


def answer_who(dispatcher: CollectingDispatcher, tracker: Tracker, who: str) -> list[EventType]:
    """The reply to "gaat het om uzelf?": the self answer, or the offer for a worried relative."""
    crisis_type = tracker.get_slot("crisis_type")
    if who == "self":
        return answer_for_self(dispatcher, tracker, crisis_type)
    dispatcher.utter_message(text=FOR_SOMEONE_ELSE.get(crisis_type or "", FOR_SOMEONE_ELSE[""]))
    return ask(dispatcher, tracker, "handover", OFFER_THIRD_PARTY)
