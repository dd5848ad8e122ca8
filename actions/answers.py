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
from actions.knowledge import load_knowledge
from actions.municipality import known_municipality, municipality_from_message, municipality_slots
from actions.regions import load_regions

logger = logging.getLogger(__name__)

OFFER_TEXT = "Wilt u dat een medewerker contact met u opneemt over uw vraag?"


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        regions = load_regions()
        knowledge = load_knowledge()
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        events: list[EventType] = []
        municipality = municipality_from_message(tracker, regions)
        if municipality:
            events += municipality_slots(municipality)
        else:
            municipality = known_municipality(tracker, regions)
        topic = knowledge.topic_for_intent(intent)
        if topic is None:
            logger.warning("no knowledge entry for intent %s", intent)
            dispatcher.utter_message(response="utter_no_answer")
            return events
        channel = channel_of(tracker)
        answer = knowledge.answer(topic, municipality, regions, channel)
        text = answer.text
        if answer.link and channel not in TEXT_ONLY:  # SMS answers must fit two segments
            text += f"\n\nMeer weten? {answer.link}"
        dispatcher.utter_message(text=text)
        if answer.service is None:
            return [*events, SlotSet("topic", topic), SlotSet("handover_offered", False)]
        dispatcher.utter_message(**choice_message(OFFER_TEXT, YES_NO, channel))
        return [
            *events,
            SlotSet("topic", topic),
            SlotSet("service", answer.service),
            SlotSet("handover_offered", True),
        ]
