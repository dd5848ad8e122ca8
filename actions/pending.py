"""The one question the assistant is waiting on outside a form, so a reply is read in context.

Rasa's rules see only `awaiting_reply` (a featurised bool); which question it was — a handover
offer, "gaat het om uzelf?", confirming a withdrawal — is in `pending` with its text and
choices, so that actions/dialogue.py can interpret "ja maar ...", re-ask it once after a side
question, and never stack a second yes/no question on top of it.
"""

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.channels import YES_NO, Choice, channel_of, choice_message

KINDS = ("handover", "crisis_who", "withdraw", "erase", "language")


def ask(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    kind: str,
    question: str,
    choices: list[Choice] | None = None,
) -> list[EventType]:
    """Ask ``question`` with its choices (buttons on web, numbered lines on SMS) and remember it."""
    assert kind in KINDS, kind
    shown = choices or YES_NO
    dispatcher.utter_message(**choice_message(question, shown, channel_of(tracker)))
    return [
        SlotSet("awaiting_reply", True),
        SlotSet("pending", kind),
        SlotSet("pending_question", question),
        SlotSet("pending_choices", [list(c) for c in shown]),
        SlotSet("pending_retries", 0),
    ]


def pending_kind(tracker: Tracker) -> str | None:
    if not tracker.get_slot("awaiting_reply"):
        return None
    kind = tracker.get_slot("pending")
    return str(kind) if kind in KINDS else None


def ask_again(
    dispatcher: CollectingDispatcher, tracker: Tracker, lead: str | None = None
) -> list[EventType]:
    """The pending question once more (after a side question or an unclear reply)."""
    question = str(tracker.get_slot("pending_question") or "")
    raw: Any = tracker.get_slot("pending_choices") or []
    choices: list[Choice] = [(str(t), str(p)) for t, p in raw] or YES_NO
    text = f"{lead} {question}".strip() if lead else question
    dispatcher.utter_message(**choice_message(text, choices, channel_of(tracker)))
    retries = int(tracker.get_slot("pending_retries") or 0)
    return [SlotSet("pending_retries", retries + 1)]


def back_to_pending(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """After a side question: the pending question once more; the second time it is let go,
    so that a resident with many questions is not asked the same thing again and again."""
    if not pending_kind(tracker):
        return []
    if int(tracker.get_slot("pending_retries") or 0) < 1:
        return ask_again(dispatcher, tracker, "En dan nog mijn vraag:")
    return clear()


def clear() -> list[EventType]:
    """Nothing is pending any more."""
    return [
        SlotSet("awaiting_reply", False),
        SlotSet("pending", None),
        SlotSet("pending_question", None),
        SlotSet("pending_choices", None),
        SlotSet("pending_retries", 0),
    ]
