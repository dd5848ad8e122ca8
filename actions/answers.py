"""Answers to information questions from the knowledge base, for the resident's municipality.

Every answer is sourced and dated data (data/knowledge/); this module picks the entry for the
intent, fills in the municipality's details and decides what comes after it:

- a question asked while the assistant was waiting for another answer (a side question) is
  answered, and then that question is asked once more — never a second yes/no on top of it;
- during the handover form the answer does not change where the handover goes;
- after a handover for the same question, the resident gets the reference, not a new offer;
- the same question twice gets the longer explanation (or a short pointer), not the same text;
- someone under 18 asking about bijstand gets what applies to them instead;
- a place outside the four regions is named as such, with where to go instead.
"""

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import TEXT_ONLY, channel_of, choice_message
from actions.crisis import answer_who
from actions.follow_ups import topic_of_service
from actions.knowledge import SMS_MAX_CHARS, Answer, gsm7_length, load_knowledge
from actions.language import ENGLISH_LEAD, ENGLISH_OFFER
from actions.municipality import (
    known_municipality,
    municipality_from_message,
    municipality_slots,
    outside_place,
)
from actions.pending import ask, back_to_pending, clear, pending_kind
from actions.regions import load_regions
from actions.replies import (
    Kind,
    age_of,
    asks_for_oneself,
    asks_for_person,
    names_someone_else,
    read_reply,
    sounds_angry,
    starts_with_refusal,
)
from actions.signals import (
    SERVICE_FOR_DOMAIN,
    accumulate_domains,
    latest_intent,
    latest_text,
    urgency_events,
)
from actions.turns import before_anything_else, start_handover, with_slots
from actions.way_forward import outside_text

logger = logging.getLogger(__name__)

OFFER_TEXT = "Wilt u dat een medewerker contact met u opneemt over uw vraag?"
ANGRY_OFFER = "Wilt u dat een medewerker u belt om het samen op te lossen?"
ANGER_ACK = "Wat vervelend dat het zo loopt. Ik begrijp dat u boos bent, en het spijt me."
MORE_HINT_SMS = " Typ MEER voor uitleg."
ASK_MUNICIPALITY = "In welke gemeente woont u? Dan geef ik u ook de gegevens van uw eigen gemeente."
REPEATED = "Meer dan dit kan ik er niet over vertellen. Een medewerker kan met u meekijken."
# Topics that do not apply under 18: the under-18 entry answers instead.
ADULT_ONLY = frozenset({"bijstand", "zoektermijn_jongeren", "voorschot"})
UNDER_18_TOPIC = "onder_18"
YOUTH_TOPIC = "zoektermijn_jongeren"  # bijstand under 27 (Participatiewet art. 41 lid 4)
YOUTH_AGE = 27


# The web chat shows the 'meer' follow-up as a button; pressing it sends what the hint on the
# other channels asks the resident to type, so the bot reads both the same way.
MORE_BUTTON = {"title": "Meer uitleg", "payload": "meer"}


def _with_more_hint(text: str, has_more: bool, link: str | None, channel: str) -> str:
    """Adds the 'meer weten?' follow-up, on SMS only when the answer still fits two segments;
    on web the 'meer' part is a button (MORE_BUTTON), not a line to type."""
    if channel in TEXT_ONLY:
        hinted = text + MORE_HINT_SMS
        length = gsm7_length(hinted)
        return hinted if has_more and length is not None and length <= SMS_MAX_CHARS else text
    hint = []
    if has_more and channel != "web":
        hint.append("Typ 'meer' voor meer uitleg.")
    if link:
        hint.append(link)
    return f"{text}\n\nMeer weten? {' '.join(hint)}" if hint else text


def _age_events(tracker: Tracker) -> list[EventType]:
    age = age_of(latest_text(tracker))
    return [SlotSet("leeftijd", age)] if age is not None else []


def _topic_for(tracker: Tracker, intent: str, age: int | None) -> str | None:
    knowledge = load_knowledge()
    topic = knowledge.topic_for(intent, latest_text(tracker))
    if topic is None and tracker.get_slot("awaiting_municipality"):
        topic = tracker.get_slot("topic")
    if topic in ADULT_ONLY and age is not None and age < 18 and UNDER_18_TOPIC in knowledge.entries:
        return UNDER_18_TOPIC
    if topic == "bijstand" and age is not None and 18 <= age < YOUTH_AGE:
        # A 19-year-old asking for bijstand: what applies to them first is the search period.
        return YOUTH_TOPIC
    if topic == UNDER_18_TOPIC and not _about_someone_young(latest_text(tracker), age):
        # "ik ben 84 en het lukt niet meer om het huis schoon te houden", "mijn moeder van 88":
        # read as the under-18 question, but nothing says anyone is under 18; the topic of
        # what they told about, if any.
        return _topic_of_story(tracker)
    return topic


_YOUNG = re.compile(
    r"\b(?:minderjarig\w*|jonger dan 18|onder de 18|nog geen 18|nog niet 18|word (?:\w+ ){0,3}18|"
    r"zit (?:nog )?op school|middelbare school|havo|vmbo|vwo|(?:mijn|mn|m'n|zijn|haar|je) ouders|"
    r"ouders (?:hun|moeten)|leeftijd|jongeren|jarige|(?:ik ben|ben) (?:1[0-7]|[5-9])|"
    r"(?:1[0-7]|zestien|zeventien|vijftien) (?:jaar|jaar oud|ben|bent|is)|(?:van|is|als) 1[0-7])\b"
)


def _about_someone_young(text: str, age: int | None) -> bool:
    """Whether the words say the resident (or the child asked about) is under 18."""
    return (age is not None and age < 18) or bool(_YOUNG.search(text.lower()))


def _topic_of_story(tracker: Tracker) -> str | None:
    """The knowledge topic of the first life domain told about that has a service."""
    topics = (topic_of_service(SERVICE_FOR_DOMAIN.get(d)) for d in accumulate_domains(tracker)[0])
    return next((topic for topic in topics if topic is not None), None)


def _say_answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    answer: Answer,
    channel: str,
    language: str,
) -> None:
    answered: list[str] = list(tracker.get_slot("answered_topics") or [])
    if _asked_again(tracker, answer.topic):
        # Asked again right after: the longer text once, then a pointer — never a copy.
        more_given = f"{answer.topic}+meer" in answered
        if answer.more and not more_given:
            dispatcher.utter_message(text=answer.more)
        elif not any(answer.text in said for said in _last_bot_texts(tracker)):
            dispatcher.utter_message(text=answer.text)
        else:
            dispatcher.utter_message(text=REPEATED)
        return
    if language == "en":
        dispatcher.utter_message(text=f"{ENGLISH_LEAD}\n{answer.text}")
        return
    text = _with_more_hint(answer.text, bool(answer.more), answer.link, channel)
    if channel == "web" and answer.more:
        dispatcher.utter_message(text=text, buttons=[MORE_BUTTON])
        return
    dispatcher.utter_message(text=text)


def _asked_again(tracker: Tracker, topic: str) -> bool:
    """The same topic right after its answer — unless we asked where the resident lives: then
    the answer is given again, now for their municipality, and that is no repetition."""
    if tracker.get_slot("awaiting_municipality"):
        return False
    answered = tracker.get_slot("answered_topics") or []
    return topic in answered and tracker.get_slot("topic") == topic


def _last_bot_texts(tracker: Tracker) -> list[str]:
    """What the assistant said since the resident's previous message."""
    said: list[str] = []
    seen_user = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user += 1
            if seen_user == 2:
                break
        elif event.get("event") == "bot" and seen_user == 1:
            said.append(str(event.get("text") or ""))
    return said


def _answered(tracker: Tracker, topic: str, more: bool = False) -> SlotSet:
    answered: list[str] = list(tracker.get_slot("answered_topics") or [])
    key = f"{topic}+meer" if more else topic
    if key not in answered:
        answered.append(key)
    return SlotSet("answered_topics", answered)


async def answer_intent(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    intent: str,
    language: str = "nl",
    *,
    angry: bool = False,
) -> list[EventType] | None:
    """Answer ``intent`` from the knowledge base and decide what follows; None if no entry.
    At most one question follows an answer; an angry resident is offered a person even where
    the answer itself has nothing to hand over."""
    regions = load_regions()
    knowledge = load_knowledge()
    events: list[EventType] = [
        SlotSet("awaiting_municipality", False),
        *urgency_events(tracker),  # "morgen komt de deurwaarder..." asked as a question
        *_age_events(tracker),
    ]
    age = age_of(latest_text(tracker)) or tracker.get_slot("leeftijd")
    municipality = municipality_from_message(tracker, regions, use_text=True)
    if municipality:
        events += municipality_slots(municipality)
    else:
        municipality = known_municipality(tracker, regions)
    outside = None if municipality else outside_place(tracker, regions)
    topic = _topic_for(tracker, intent, age)
    if topic is None:
        return None
    channel = channel_of(tracker)
    answer = knowledge.answer(topic, municipality, regions, channel)
    repeated = _asked_again(tracker, topic)
    _say_answer(dispatcher, tracker, answer, channel, language)
    events += [SlotSet("topic", topic), _answered(tracker, topic, more=repeated)]

    if outside:
        dispatcher.utter_message(text=outside_text(outside))
        return [*events, SlotSet("municipality_asked", True), SlotSet("buiten_regio", outside)]
    active_form = bool(tracker.active_loop_name)
    if pending_kind(tracker) and not active_form:
        if starts_with_refusal(latest_text(tracker)):
            return [*events, *clear()]  # "nee, maar wat is ...?": answered, not asked again
        # A side question: back, once, to what we were asking. No second question on top.
        return [*events, *back_to_pending(dispatcher, tracker)]
    if active_form:
        return events  # the form asks its own question next; the destination stays as it was
    if (
        answer.needs_municipality
        and not tracker.get_slot("municipality_asked")
        and not tracker.get_slot("gemeente_code")
    ):
        # Ask once; whatever the resident says next, we do not ask again this session.
        dispatcher.utter_message(text=ASK_MUNICIPALITY)
        return [
            *events,
            SlotSet("awaiting_municipality", True),
            SlotSet("municipality_asked", True),
        ]
    if answer.service is None:
        if angry:
            return [*events, *ask(dispatcher, tracker, "handover", ANGRY_OFFER)]
        if asks_for_person(latest_text(tracker)) and not tracker.get_slot("handovers_made"):
            # "... kunnen jullie me bellen na 15 uur?" with a question another body answers:
            # the answer, and still the person they asked for.
            return [*events, *ask(dispatcher, tracker, "handover", OFFER_TEXT)]
        return events
    events.append(SlotSet("service", answer.service))
    done = _handover_for(tracker, answer.service)
    if done:
        dispatcher.utter_message(
            text=f"Uw vraag hierover is al doorgegeven (kenmerk {done}). De medewerker neemt "
            "contact met u op; u kunt dit dan ook bespreken."
        )
        return events
    if asks_for_person(latest_text(tracker)):
        # "... en ik wil graag gebeld worden": no question whether they want what they asked.
        return [*events, *start_handover(dispatcher, tracker)]
    offer = ENGLISH_OFFER if language == "en" else ANGRY_OFFER if angry else OFFER_TEXT
    return [*events, *ask(dispatcher, tracker, "handover", offer)]


def _handover_for(tracker: Tracker, service: str) -> str | None:
    """The reference of a handover already made in this session for ``service``."""
    for made in tracker.get_slot("handovers_made") or []:
        if made.get("service") == service or made.get("crisis"):
            return str(made["reference"])
    return None


class ActionAnswerQuestion(Action):
    """Answers the question of the latest message, or — when the resident just told where
    they live because we asked — the previous question again, now for their municipality."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        first = before_anything_else(dispatcher, tracker)
        if first is not None:
            return first
        pending = pending_kind(tracker)
        if pending == "handover" and read_reply(latest_text(tracker)).kind is Kind.YES:
            # "ja maar niet op maandag bellen, dan werk ik bij de voedselbank": a yes with a
            # condition, whatever topic the words also touch.
            reply = read_reply(latest_text(tracker))
            return start_handover(dispatcher, tracker, reply.condition)
        if pending == "crisis_who":
            text = latest_text(tracker)
            if asks_for_oneself(text) and not names_someone_else(text):
                # "castricum zei ik toch. krijg ik nou bijstand of niet": about themself; the
                # numbers were given, now their question.
                return await answer_in_context(dispatcher, tracker, latest_intent(tracker), clear())
            # "kan ik dat anoniem melden?" after "gaat het om uzelf?": asking for someone else.
            return [*clear(), *answer_who(dispatcher, tracker, "other")]
        outside = _outside_answer_to_the_form(tracker)
        if outside:
            # "Amsterdam" at "In welke gemeente woont u?", read as out_of_scope: it is the
            # answer, and it ends the handover (nothing can be passed on).
            dispatcher.utter_message(text=outside_text(outside))
            return [SlotSet("handover_cancelled", True), SlotSet("buiten_regio", outside)]
        angry = sounds_angry(latest_text(tracker))
        if angry:
            dispatcher.utter_message(text=ANGER_ACK)
        language = str(tracker.get_slot("language") or "nl")
        events = await answer_intent(
            dispatcher, tracker, latest_intent(tracker), language, angry=angry
        )
        if events is None and accumulate_domains(tracker)[0]:
            # No entry fits (an under-18 reading of an 88-year-old's story): listen to the
            # story instead — who can help, and the offer.
            return [FollowupAction("action_respond_situation")]
        if events is None:
            logger.warning("no knowledge entry for intent %s", latest_intent(tracker))
            dispatcher.utter_message(response="utter_no_answer")
            return []
        return events


def _outside_answer_to_the_form(tracker: Tracker) -> str | None:
    """A place outside the regions given where the form asked the municipality."""
    if not tracker.active_loop_name or tracker.get_slot("requested_slot") != "gemeente_code":
        return None
    regions = load_regions()
    if municipality_from_message(tracker, regions, use_text=True) is not None:
        return None
    return outside_place(tracker, regions)


class ActionAnswerForMunicipality(ActionAnswerQuestion):
    """The same answer again, now that the resident told where they live. A separate name so
    that Rasa's rules can tell this turn apart from answering a new question."""

    def name(self) -> str:
        return "action_answer_for_municipality"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        regions = load_regions()
        if municipality_from_message(tracker, regions, use_text=True) is None:
            place = outside_place(tracker, regions)
            if place:
                dispatcher.utter_message(text=outside_text(place))
                return [SlotSet("awaiting_municipality", False)]
        return await super().run(dispatcher, tracker, domain)


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
        answered = tracker.get_slot("answered_topics") or []
        if f"{topic}+meer" in answered:
            # Everything said already: what the topic points to is the "more" there still is
            # (after bezwaar: the Juridisch Loket), else a person.
            related = load_knowledge().entry(topic).related
            new = next((t for t in related if t not in answered), None)
            if new is None:
                dispatcher.utter_message(text=REPEATED)
                return []
            more = load_knowledge().answer(
                new, known_municipality(tracker, regions), regions, channel_of(tracker)
            )
            dispatcher.utter_message(text=f"Misschien helpt dit ook. {more.text}")
            return [_answered(tracker, new)]
        dispatcher.utter_message(text=answer.more or answer.text)
        _pending_buttons_again(dispatcher, tracker)
        return [_answered(tracker, topic, more=True)]


def _pending_buttons_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """On web, pressing 'Meer uitleg' answers (and so closes) the buttons shown with the
    answer, among them those of a question still open ("Wilt u dat een medewerker ...?"): that
    question is shown once more with its buttons under the longer text. The pending slots stay
    as they are (the other channels read a typed reply to it the same way)."""
    if channel_of(tracker) != "web" or not pending_kind(tracker):
        return
    question = str(tracker.get_slot("pending_question") or "")
    raw: Any = tracker.get_slot("pending_choices") or []
    if question and raw:
        choices = [(str(t), str(p)) for t, p in raw]
        dispatcher.utter_message(**choice_message(question, choices, "web"))


async def answer_in_context(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    intent: str,
    facts: list[EventType],
) -> list[EventType] | None:
    """The knowledge answer for ``intent``, seeing the facts of this very message (e.g. the
    municipality just named), in the resident's chosen language; None if no entry."""
    language = str(tracker.get_slot("language") or "nl")
    answered = await answer_intent(dispatcher, with_slots(tracker, facts), intent, language)
    return None if answered is None else [*facts, *answered]
