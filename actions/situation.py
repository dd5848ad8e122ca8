"""A resident tells their situation instead of asking a question: listen, remember which life
domains came up (with their own words as evidence), and offer a professional who can help."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_in_context
from actions.facts import remember_facts
from actions.follow_ups import say_fact_for_need
from actions.handover import route_for, who_receives
from actions.municipality import outside_place
from actions.pending import ask, ask_again, pending_kind
from actions.regions import load_regions
from actions.replies import asks_for_person, asks_to_apply, is_question, sounds_angry
from actions.routing import is_multi_problem
from actions.signals import accumulate_domains, latest_text, urgency_events
from actions.turns import (
    ANGER_ACK,
    acknowledge_anger,
    before_anything_else,
    intent_of_topic,
    question_intent,
    start_handover,
    with_slots,
)
from actions.way_forward import outside_text

MULTI_PROBLEM = (
    "Dank u dat u dit vertelt. Er speelt veel tegelijk. Een medewerker van het wijkteam in uw "
    "gemeente kan u helpen met alles samen, met één plan."
)
ONE_PROBLEM = "Dank u dat u dit vertelt. Een medewerker kan met u meekijken."
OFFER = "Wilt u dat een medewerker contact met u opneemt?"


class ActionRespondSituation(Action):
    def name(self) -> str:
        return "action_respond_situation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await respond_to_situation(dispatcher, tracker)


def _follow_up_on_topic(tracker: Tracker, events: list[EventType]) -> str | None:
    """'ik woon in castricum, kan de gemeente helpen?' right after an answer: the same topic
    again, now for the municipality just named."""
    named = any(e.get("name") == "gemeente_code" for e in events)
    if named and is_question(latest_text(tracker)):
        return intent_of_topic(tracker.get_slot("topic"))
    return None


def _who_can_help(tracker: Tracker, multi: bool) -> str:
    """Who can help, by name when the municipality is known (the same routing as the handover,
    so the offer and the consent question name the same team)."""
    if not tracker.get_slot("gemeente_code"):
        return MULTI_PROBLEM if multi else ONE_PROBLEM
    chosen = route_for(tracker, load_regions())
    who = who_receives(chosen)
    if multi:
        return (
            "Dank u dat u dit vertelt. Er speelt veel tegelijk. Een medewerker van "
            f"{who} kan u helpen met alles samen, met één plan."
        )
    return f"Dank u dat u dit vertelt. Een medewerker van {who} kan met u meekijken."


async def respond_to_situation(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """Listen, remember, answer a question inside the story, or offer a professional."""
    first = before_anything_else(dispatcher, tracker)
    if first is not None:
        return first
    domains, evidence = accumulate_domains(tracker)
    events: list[EventType] = [
        SlotSet("leefgebieden", domains),
        SlotSet("leefgebied_bewijs", evidence),
        *urgency_events(tracker),
        *remember_facts(tracker),
    ]
    if tracker.active_loop_name:
        # A handover is already being prepared: this goes along with it.
        dispatcher.utter_message(text="Dank u, dat geef ik door aan de medewerker.")
        return events
    text = latest_text(tracker)
    question = question_intent(tracker) or _follow_up_on_topic(tracker, events)
    if sounds_angry(text):
        if question is None or pending_kind(tracker):
            return [*events, *acknowledge_anger(dispatcher, tracker)]
        # "ik word gek van die formulieren ... kan iemand me helpen met invullen?": heard,
        # and the question still gets its answer.
        dispatcher.utter_message(text=ANGER_ACK)
    place = outside_place(tracker, load_regions())
    if place and not any(e.get("name") == "gemeente_code" for e in events):
        dispatcher.utter_message(text=outside_text(place))
        return [*events, SlotSet("buiten_regio", place)]
    if asks_for_person(text) or (asks_to_apply(text) and not pending_kind(tracker)):
        # "... kunnen jullie me bellen?", "ik wil bijstand aanvragen, mijn ww stopt": what they
        # ask for is the handover itself.
        dispatcher.utter_message(text="Dank u dat u dit vertelt.")
        return [*events, *start_handover(dispatcher, tracker)]
    if question is not None and not pending_kind(tracker):
        # A story with a question in it: the question gets its answer.
        answered = await answer_in_context(dispatcher, tracker, question, events)
        if answered is not None:
            return answered
    if pending_kind(tracker):
        dispatcher.utter_message(text="Dank u dat u dit vertelt. Dat neem ik mee.")
        return [*events, *ask_again(dispatcher, tracker)]
    reference = tracker.get_slot("handover_reference")
    if reference:
        dispatcher.utter_message(
            text=f"Dank u dat u dit vertelt. Uw vraag is al doorgegeven (kenmerk {reference}). "
            "Vertel dit ook aan de medewerker als die contact met u opneemt."
        )
        return events
    new_domains = set(domains) - set(tracker.get_slot("leefgebieden") or [])
    multi = is_multi_problem(domains) and bool(new_domains)
    say_fact_for_need(dispatcher, with_slots(tracker, events))  # "gn geld meer voor eten"
    dispatcher.utter_message(text=_who_can_help(with_slots(tracker, events), multi))
    return [*events, *ask(dispatcher, tracker, "handover", OFFER)]
