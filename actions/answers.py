"""Answers to information questions from the knowledge base, for the resident's municipality.

Every answer is sourced and dated data (data/knowledge/); this module only picks the entry for
the intent, fills in the municipality's details and, where a professional can take it further,
offers a warm handover.
"""

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import TEXT_ONLY, YES_NO, channel_of, choice_message
from actions.crisis import urgency_events
from actions.knowledge import SMS_MAX_CHARS, gsm7_length, load_knowledge
from actions.municipality import known_municipality, municipality_from_message, municipality_slots
from actions.regions import load_regions

logger = logging.getLogger(__name__)

OFFER_TEXT = "Wilt u dat een medewerker contact met u opneemt over uw vraag?"


MORE_HINT_SMS = " Typ MEER voor uitleg."
ASK_MUNICIPALITY = "In welke gemeente woont u? Dan geef ik u ook de gegevens van uw eigen gemeente."


def _with_more_hint(text: str, has_more: bool, link: str | None, channel: str) -> str:
    """Adds the 'meer weten?' follow-up, on SMS only when the answer still fits two segments."""
    if channel in TEXT_ONLY:
        hinted = text + MORE_HINT_SMS
        length = gsm7_length(hinted)
        return hinted if has_more and length is not None and length <= SMS_MAX_CHARS else text
    hint = []
    if has_more:
        hint.append("Typ 'meer' voor meer uitleg.")
    if link:
        hint.append(link)
    return f"{text}\n\nMeer weten? {' '.join(hint)}" if hint else text


class ActionAnswerQuestion(Action):
    """Answers the question of the latest message, or — when the resident just told where
    they live because we asked — the previous question again, now for their municipality."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        regions = load_regions()
        knowledge = load_knowledge()
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        awaiting = bool(tracker.get_slot("awaiting_municipality"))
        # "morgen komt de deurwaarder..." asked as a question is just as urgent
        events: list[EventType] = [
            SlotSet("awaiting_municipality", False),
            *urgency_events(tracker),
        ]
        municipality = municipality_from_message(tracker, regions, use_text=awaiting)
        if municipality:
            events += municipality_slots(municipality)
        else:
            municipality = known_municipality(tracker, regions)
        topic = knowledge.topic_for_intent(intent)
        if topic is None and awaiting:
            topic = tracker.get_slot("topic")
        if topic is None:
            logger.warning("no knowledge entry for intent %s", intent)
            dispatcher.utter_message(response="utter_no_answer")
            return events
        channel = channel_of(tracker)
        answer = knowledge.answer(topic, municipality, regions, channel)
        dispatcher.utter_message(
            text=_with_more_hint(answer.text, bool(answer.more), answer.link, channel)
        )
        events.append(SlotSet("topic", topic))
        if answer.needs_municipality and not tracker.get_slot("municipality_asked"):
            # Ask once; whatever the resident says next, we do not ask again this session.
            dispatcher.utter_message(text=ASK_MUNICIPALITY)
            return [
                *events,
                SlotSet("awaiting_municipality", True),
                SlotSet("municipality_asked", True),
                SlotSet("handover_offered", False),
            ]
        if answer.service is None:
            return [*events, SlotSet("handover_offered", False)]
        dispatcher.utter_message(**choice_message(OFFER_TEXT, YES_NO, channel))
        return [*events, SlotSet("service", answer.service), SlotSet("handover_offered", True)]


class ActionAnswerForMunicipality(ActionAnswerQuestion):
    """The same answer again, now that the resident told where they live. A separate name so
    that Rasa's rules can tell this turn apart from answering a new question."""

    def name(self) -> str:
        return "action_answer_for_municipality"


class ActionAnswerMore(Action):
    """The 'meer weten?' follow-up of the last topic answered."""

    def name(self) -> str:
        return "action_answer_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        topic = tracker.get_slot("topic")
        if not topic:
            dispatcher.utter_message(response="utter_ask_what_more")
            return []
        regions = load_regions()
        answer = load_knowledge().answer(
            topic, known_municipality(tracker, regions), regions, channel_of(tracker)
        )
        dispatcher.utter_message(text=answer.more or answer.text)
        return []
