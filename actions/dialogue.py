"""Conversation control: replies to the question we asked, anger, not understanding, and the
end of a conversation — so that no reply leaves a resident stuck.

- `action_reply` reads the reply to the pending question (actions/pending.py) in context:
  "ja maar hij mag het niet weten" is a yes with a condition that goes to the professional,
  "nee het gaat om mij" after "gaat het om uzelf?" is about the resident, "laat maar" is a stop
  that still ends with a way forward, a correction of the municipality is taken.
- `action_acknowledge_anger` acknowledges an angry resident before anything else and offers
  a person.
- `action_not_understood` says so — after trying a story, a follow-up on the last answer, a
  place or a request for a person — and on the second time in a row offers a person.

What this shares with the knowledge answers and the situation action is in actions/turns.py.
"""

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_in_context, answer_intent
from actions.crisis import WHO_CHOICES, WHO_QUESTION, answer_for_self, answer_who
from actions.facts import remember_facts
from actions.follow_ups import answer_follow_up
from actions.language import DUTCH_CHOSEN, ENGLISH_CHOSEN, chosen_language
from actions.municipality import outside_place
from actions.pending import ask, ask_again, clear, pending_kind
from actions.privacy_requests import bsn_notice, handle_privacy_request, privacy_reply
from actions.process_questions import answer_process_question
from actions.regions import load_regions
from actions.replies import (
    Kind,
    asks_for_oneself,
    asks_for_person,
    asks_when_contact,
    is_question,
    names_someone_else,
    read_reply,
    sounds_angry,
    who_is_meant,
)
from actions.signals import accumulate_domains, latest_intent, latest_text, requested_service
from actions.situation import respond_to_situation
from actions.turns import (
    acknowledge_anger,
    before_anything_else,
    end_with_way_forward,
    intent_of_topic,
    question_intent,
    start_handover,
    with_slots,
)
from actions.way_forward import outside_text

FALLBACK_INTENT = "nlu_fallback"
HANDOVER_OFFER = "Wilt u dat een medewerker contact met u opneemt?"
UNCLEAR_LEAD = "Ik begreep uw antwoord niet helemaal."
MAX_RETRIES = 1
_ABOUT_HELPING_SOMEONE = re.compile(
    r"\b(?:melden|melding|helpen|hem|haar|hen|die persoon|diegene|iemand|naaste)\b"
)
WHAT_IS_YOUR_QUESTION = "Waarmee kan ik u helpen? Typ uw vraag in een paar woorden."


async def answer_language_choice(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any] | None = None
) -> list[EventType]:
    """Records the choice, then answers the question the resident asked in the first place."""
    language = chosen_language(latest_text(tracker), latest_intent(tracker)) or "en"
    dispatcher.utter_message(text=ENGLISH_CHOSEN if language == "en" else DUTCH_CHOSEN)
    events: list[EventType] = [
        *clear(),
        SlotSet("language", language),
        SlotSet("held_intent", None),
    ]
    held = tracker.get_slot("held_intent") or ""
    answered = await answer_intent(dispatcher, tracker, held, language)
    if answered is None:
        dispatcher.utter_message(
            text="What is your question? A few words are enough, for example 'I lost my job' "
            "or 'I cannot pay my rent'. I can also ask a worker of your municipality to call "
            "you back about money, benefits, debts or care."
            if language == "en"
            else "Wat is uw vraag? Een paar woorden is genoeg."
        )
        return events
    return [*events, *answered]


class ActionStartHandover(Action):
    """The resident asked for a person or to apply: the intro (or the application's, which
    takes over what the conversation already told), then the handover form."""

    def name(self) -> str:
        return "action_start_handover"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return start_handover(dispatcher, tracker)


class ActionReply(Action):
    """The resident's reply to the pending question, read in context."""

    def name(self) -> str:
        return "action_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events = await self._reply(dispatcher, tracker)
        if not any(e.get("event") == "followup" for e in events):
            # The rule that called this action expected `awaiting_reply` to stay as it was;
            # when the reply changed it, no rule matches any more: listen, explicitly.
            events.append(FollowupAction("action_listen"))
        return events

    async def _reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        bsn_notice(dispatcher, tracker)
        kind = pending_kind(tracker)
        text, intent = latest_text(tracker), latest_intent(tracker)
        if kind in ("withdraw", "erase"):
            return await privacy_reply(dispatcher, tracker, kind, read_reply(text, intent))
        privacy = handle_privacy_request(dispatcher, tracker)
        if privacy is not None:
            return privacy
        if kind == "language":
            return await answer_language_choice(dispatcher, tracker)
        facts = remember_facts(tracker)
        if kind == "crisis_who":
            own = await self._own_question(dispatcher, tracker, facts)
            if own is not None:
                return own
            return [*facts, *self._who(dispatcher, with_slots(tracker, facts), text, intent)]
        if answer_process_question(dispatcher, tracker):
            return [*facts, *ask_again(dispatcher, tracker)]
        followed = answer_follow_up(dispatcher, with_slots(tracker, facts))
        if followed is not None:  # "kost dat geld?" at the offer: the fact, then the offer
            return [*facts, *followed, *ask_again(dispatcher, tracker)]
        if sounds_angry(text) and read_reply(text, intent).kind is not Kind.YES:
            return [*facts, *acknowledge_anger(dispatcher, tracker)]
        if intent == "request_human" or asks_for_person(text):
            return [*facts, *start_handover(dispatcher, tracker)]
        if intent in ("thank", "goodbye"):
            return [*facts, *end_with_way_forward(dispatcher, tracker, "Graag gedaan.")]
        if intent == "bot_challenge":
            dispatcher.utter_message(
                text="Ik ben een computerprogramma. De medewerker die u belt, is een echt mens."
            )
            return [*facts, *ask_again(dispatcher, tracker)]
        question = question_intent(tracker)
        if question is not None and read_reply(text, intent).kind is Kind.UNCLEAR:
            # "maar hoeveel krijg ik nou?": a question, not an answer — answered, then back once.
            answered = await answer_in_context(dispatcher, tracker, question, facts)
            if answered is not None:
                return answered
        place = outside_place(tracker, load_regions()) if not facts else None
        if place:
            dispatcher.utter_message(text=outside_text(place))
            return [*clear(), SlotSet("buiten_regio", place)]
        topic_intent = intent_of_topic(tracker.get_slot("topic"))
        if topic_intent and is_question(text) and read_reply(text, intent).kind is Kind.UNCLEAR:
            # "maar hoeveel krijg ik nou?", "en blijft senzer dan betalen?": on the last answer.
            answered = await answer_in_context(dispatcher, tracker, topic_intent, facts)
            if answered is not None:
                return answered
        new_place = any(e.get("name") == "gemeente_code" for e in facts)
        reply_events = self._handover_offer(
            dispatcher, with_slots(tracker, facts), text, intent, new_place
        )
        return [*facts, *reply_events]

    @staticmethod
    async def _own_question(
        dispatcher: CollectingDispatcher, tracker: Tracker, facts: list[EventType]
    ) -> list[EventType] | None:
        """ "castricum zei ik toch. krijg ik nou bijstand of niet" at "gaat het om uzelf?": the
        resident asks about their own rights, so it is about them; their question is answered
        (the crisis numbers were already given) instead of asking who it is about again."""
        text = latest_text(tracker)
        question = question_intent(tracker)
        # "krijg ik nou bijstand of niet": the "niet" is no answer to the who question.
        if question is None or names_someone_else(text) or not asks_for_oneself(text):
            return None
        return await answer_in_context(dispatcher, tracker, question, [*facts, *clear()])

    def _who(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, intent: str
    ) -> list[EventType]:
        who = who_is_meant(text, intent)
        if who is None and is_question(text) and _ABOUT_HELPING_SOMEONE.search(text.lower()):
            who = "other"  # "kan ik dat anoniem melden?": asking how to help someone else
        if who is not None:
            return [*clear(), *answer_who(dispatcher, tracker, who)]
        if int(tracker.get_slot("pending_retries") or 0) < MAX_RETRIES:
            return ask_again(dispatcher, tracker)
        # Still unclear: safer to treat the resident as the one at risk.
        return [*clear(), *answer_for_self(dispatcher, tracker, tracker.get_slot("crisis_type"))]

    def _handover_offer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        text: str,
        intent: str,
        new_place: bool = False,
    ) -> list[EventType]:
        reply = read_reply(text, intent)
        if reply.kind is Kind.YES and not pending_kind(tracker):
            # "ja" with nothing asked: after a question or a story it means "help me with it".
            if requested_service(tracker) or tracker.get_slot("leefgebieden"):
                return start_handover(dispatcher, tracker, reply.condition)
            dispatcher.utter_message(text=WHAT_IS_YOUR_QUESTION)
            return []
        if reply.kind is Kind.YES:
            return start_handover(dispatcher, tracker, reply.condition)
        if reply.kind in (Kind.NO, Kind.STOP):
            return end_with_way_forward(dispatcher, tracker)
        named = tracker.get_slot("gemeente") if (reply.correction or new_place) else None
        if named and tracker.get_slot("gemeente_code"):
            # "castricum zei ik toch", "woerden": noted (remember_facts), then the question again.
            dispatcher.utter_message(text=f"Dank u, ik noteer gemeente {named}.")
            return ask_again(dispatcher, tracker)
        if intent == "describe_situation":
            domains, evidence = accumulate_domains(tracker)
            new_words = [w for d in domains for w in evidence.get(d, [])][-2:]
            heard = f" over {' en '.join(new_words)}" if new_words else ""
            dispatcher.utter_message(
                text=f"Dank u dat u dit vertelt. Wat u vertelt{heard} geef ik mee aan de "
                "medewerker."
            )
            return [
                SlotSet("leefgebieden", domains),
                SlotSet("leefgebied_bewijs", evidence),
                *ask_again(dispatcher, tracker),
            ]
        if int(tracker.get_slot("pending_retries") or 0) < MAX_RETRIES:
            return ask_again(dispatcher, tracker, UNCLEAR_LEAD)
        return end_with_way_forward(dispatcher, tracker, "Geen probleem.")


class ActionAcknowledgeAnger(Action):
    def name(self) -> str:
        return "action_acknowledge_anger"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # "al 3 weken geen geld!!!" also says what it is about: remembered for the routing.
        domains, evidence = accumulate_domains(tracker)
        events: list[EventType] = [
            *remember_facts(tracker),
            SlotSet("leefgebieden", domains),
            SlotSet("leefgebied_bewijs", evidence),
        ]
        return [*events, *acknowledge_anger(dispatcher, with_slots(tracker, events))]


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
    """Not understood: privacy requests and anger are still recognised; the second time in a
    row a person is offered instead of letting the resident go round in circles."""

    def name(self) -> str:
        return "action_not_understood"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        if len(text.split()) >= 8 and not asks_when_contact(text):
            # A story the classifier could not place: listen to it as one (that also answers a
            # question inside it, and recognises anger, a request for a person, a place).
            return await respond_to_situation(dispatcher, tracker)
        first = before_anything_else(dispatcher, tracker)
        if first is not None:
            return first
        facts = remember_facts(tracker)
        if answer_process_question(dispatcher, tracker):
            return facts
        if sounds_angry(text):
            return [*facts, *acknowledge_anger(dispatcher, tracker)]
        if asks_for_person(text):
            return [*facts, *start_handover(dispatcher, tracker)]
        place = outside_place(tracker, load_regions()) if not facts else None
        if place:
            dispatcher.utter_message(text=outside_text(place))
            return [SlotSet("buiten_regio", place)]
        elsewhere = tracker.get_slot("buiten_regio")
        if elsewhere and (is_question(text) or len(text.split()) <= 6) and not facts:
            dispatcher.utter_message(text=outside_text(str(elsewhere)))  # "waar dan wel?"
            return []
        question = question_intent(tracker)
        if question is not None:
            answered = await answer_in_context(dispatcher, tracker, question, facts)
            if answered is not None:
                return answered
        topic_intent = intent_of_topic(tracker.get_slot("topic"))
        if topic_intent and (is_question(text) or facts) and len(text.split()) <= 12:
            # "wat kost dat?", "is dat gratis?", "ik woon in castricum, kan de gemeente helpen?":
            # a follow-up on the last answer, now for the resident's municipality.
            answered = await answer_in_context(dispatcher, tracker, topic_intent, facts)
            if answered is not None:
                return answered
        if facts and any(e.get("name") == "gemeente_code" for e in facts):
            # Only a place: "heiloo". Noted; what next?
            dispatcher.utter_message(
                text="Dank u, dat heb ik genoteerd. Wat is uw vraag? Een paar woorden is genoeg."
            )
            return facts
        if consecutive_fallbacks(tracker) < 2:
            dispatcher.utter_message(response="utter_default")
            return facts
        return [
            *facts,
            *ask(
                dispatcher,
                tracker,
                "handover",
                "Sorry, ik begrijp u nog steeds niet goed. Zal ik vragen of een medewerker "
                "contact met u opneemt?",
            ),
        ]


__all__ = [
    "HANDOVER_OFFER",
    "WHO_CHOICES",
    "WHO_QUESTION",
    "ActionAcknowledgeAnger",
    "ActionNotUnderstood",
    "ActionReply",
    "ActionStartHandover",
    "end_with_way_forward",
    "start_handover",
]
