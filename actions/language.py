"""English-speaking residents: a short English answer and the choice to go on in English or
in simple Dutch.

The knowledge base is Dutch (sourced, dated texts), so "in English" means: the assistant's own
words in English, the official answer as its short simple-Dutch text, and a professional who
can call back. It never machine-translates a regulation.
"""

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import Choice
from actions.pending import ask
from actions.replies import Kind, looks_english, read_reply
from actions.signals import latest_intent, latest_text

ENGLISH_INTRO = (
    "Hello! I am Voordeur, the digital assistant of your municipality. I am a computer "
    "program, not a person. I help with money, work, debts and support at home. My official "
    "answers are in Dutch, but I can help you in English too. How would you like to continue?"
)
LANGUAGE_CHOICES: list[Choice] = [("English", "/affirm"), ("Eenvoudig Nederlands", "/deny")]
ENGLISH_CHOSEN = (
    "OK, we continue in English. I will explain in English and show the official answer in "
    "simple Dutch. A worker can also call you back; you can ask for English on the phone."
)
DUTCH_CHOSEN = "Goed, we gaan verder in eenvoudig Nederlands."
ENGLISH_LEAD = "Here is the official answer in simple Dutch (a translation app can help):"
ENGLISH_OFFER = "Would you like a worker of your municipality to contact you about this?"


def english_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """The first English message of a conversation: English intro and the language choice.
    The question it asked is kept (`held_intent`) and answered after the choice."""
    if tracker.get_slot("language") or not looks_english(latest_text(tracker)):
        return None
    dispatcher.utter_message(text=ENGLISH_INTRO)
    # The classifier is trained on Dutch: its best knowledge intent for the English text is
    # kept too, so that the question can still be answered after the choice.
    held = latest_intent(tracker)
    if not held.startswith("ask_"):
        ranked = [
            str(r.get("name"))
            for r in tracker.latest_message.get("intent_ranking") or []
            if str(r.get("name", "")).startswith("ask_") and float(r.get("confidence") or 0) >= 0.1
        ]
        held = ranked[0] if ranked else held
    return [
        SlotSet("held_intent", held),
        *ask(dispatcher, tracker, "language", "English or Dutch?", LANGUAGE_CHOICES),
    ]


def chosen_language(text: str, intent: str) -> str | None:
    lowered = text.lower()
    if "engl" in lowered or "engels" in lowered:
        return "en"
    if "neder" in lowered or "dutch" in lowered:
        return "nl"
    kind = read_reply(text, intent).kind
    return {Kind.YES: "en", Kind.NO: "nl"}.get(kind)
