"""Short follow-up questions on the topic just discussed: "is dat gratis?" after the
Kindertelefoon, "kost dat geld?" after a Wmo offer, "en als dat niet lukt?" after the Wajong.

The answer is the entry's fact for that aspect (data/knowledge/<topic>.yml, ``facts:``) — the
specific thing asked, not the longer 'meer' text and not a fresh answer to whatever topic the
classifier guessed from three words. The topic is the one last answered, or, when the
conversation came from a story or an offer, the entry of the service the resident wants.
"""

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.aspects import aspects_of
from actions.channels import channel_of
from actions.knowledge import load_knowledge
from actions.municipality import (
    known_municipality,
    municipality_from_message,
    municipality_slots,
)
from actions.pending import pending_kind
from actions.regions import load_regions
from actions.signals import latest_text, requested_service

# The entry that explains a service, where its id differs from the service name.
TOPIC_OF_SERVICE = {"bijstand_intake": "bijstand", "jeugd": "jeugdhulp"}
# Aspects whose fact a topic may borrow from a related topic.
BORROWABLE = frozenset({"wie_betaalt", "digid"})
_WORD = re.compile(r"[a-z\u00e0-\u00ff]{6,}")
# Up to this many words a message with an aspect is a follow-up ("is dat gratis?"); a longer
# one only when the classifier is not sure it is about another topic ("kan ik hulp krijgen
# bij het betalen van mijn energierekening?" after the Wmo answer is a new question).
SHORT_FOLLOW_UP_WORDS = 9
OTHER_TOPIC_CONFIDENCE = 0.8


# Needs in a story that have a fact of their own to say before anything is offered: someone
# without money for food hears about the food bank and an advance today, not only "a worker
# can look at it with you".
NEEDS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            r"\b(?:g(?:ee)?n|niks|niet genoeg)\b[^.?!]*\b(?:eten|boodschappen|voedsel)\b"
            r"|\bhonger\b|\bniks te eten\b"
        ),
        "voedselbank",
        "niet_betalen",
    ),
]


def current_topic(tracker: Tracker) -> str | None:
    """The knowledge topic the conversation is about now: the one last answered, else — once
    the assistant offered help for a story or is preparing a handover — the entry of the
    service wanted. A first question ("hoeveel bijstand krijg ik?") has no topic yet: it gets
    the whole answer, not a fact."""
    topic = tracker.get_slot("topic")
    if topic in load_knowledge().entries:
        return str(topic)
    responded = (
        pending_kind(tracker) or tracker.active_loop_name or tracker.get_slot("handovers_made")
    )
    return topic_of_service(requested_service(tracker)) if responded else None


def topic_of_service(service: str | None) -> str | None:
    """The knowledge entry that explains ``service`` ('bijstand_intake' -> 'bijstand')."""
    candidate = TOPIC_OF_SERVICE.get(service or "", service)
    return candidate if candidate in load_knowledge().entries else None


def _names_other_topic(tracker: Tracker, topic: str) -> bool:
    """Whether the message names the topic the classifier saw, and it is another one:
    "hoeveel krijg ik bij bijzondere bijstand?" after the bijstand answer is a new question.
    A few words with only an aspect ("is dat gratis?") name nothing, however sure the
    classifier is of its guess. Naming = a word of the other entry's title that is neither
    an aspect word nor part of the current entry's title; a longer message the classifier
    is sure of counts as naming too."""
    knowledge = load_knowledge()
    intent = tracker.latest_message.get("intent") or {}
    other = knowledge.topic_for_intent(str(intent.get("name") or ""))
    if other is None or other == topic:
        return False
    text = latest_text(tracker).lower()
    current_title = knowledge.entry(topic).title.lower()
    named = any(
        word in text and word not in current_title and not aspects_of(word)
        for word in _WORD.findall(knowledge.entry(other).title.lower())
    )
    sure = float(intent.get("confidence") or 0) >= OTHER_TOPIC_CONFIDENCE
    return named or (sure and len(text.split()) > SHORT_FOLLOW_UP_WORDS)


def _facts(tracker: Tracker, topic: str) -> tuple[dict[str, str], list[EventType]]:
    """The topic's facts for the resident's municipality — the one named in this very message
    ("... woon in helmond") first — and the events that remember a municipality just named."""
    regions = load_regions()
    named = municipality_from_message(tracker, regions, use_text=True)
    municipality = named or known_municipality(tracker, regions)
    answer = load_knowledge().answer(topic, municipality, regions, channel_of(tracker))
    return answer.facts, list(municipality_slots(named)) if named else []


def answer_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Answers a short follow-up with the current topic's fact for its aspect; the events
    (the topic, a municipality named on the way), or None when it is no such follow-up."""
    aspects = aspects_of(latest_text(tracker))
    topic = current_topic(tracker) if aspects else None
    if topic is None or _names_other_topic(tracker, topic):
        return None
    # The topic's own fact first, else — for who pays and DigiD, which do not depend on the
    # decision at hand — one of the topics it points to ("blijft Senzer dan betalen?" after
    # the answer on reporting a move). "als het niet lukt" after toeslagen must not borrow
    # the bezwaar fact of bijzondere bijstand.
    for candidate in [topic, *load_knowledge().entry(topic).related]:
        facts, remembered = _facts(tracker, candidate)
        allowed = aspects if candidate == topic else [a for a in aspects if a in BORROWABLE]
        aspect = next((a for a in allowed if a in facts), None)
        if aspect is not None:
            dispatcher.utter_message(text=facts[aspect])
            return [SlotSet("topic", topic), *remembered]
    return None


def say_fact_for_need(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """In a story: the fact for an urgent need it names (``NEEDS``); True if one was said."""
    text = latest_text(tracker).lower()
    for pattern, topic, aspect in NEEDS:
        facts = _facts(tracker, topic)[0] if pattern.search(text) else {}
        if aspect in facts:
            dispatcher.utter_message(text=facts[aspect])
            return True
    return False
