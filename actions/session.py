"""Conversation start: every conversation opens by saying plainly that this is an automated
(AI) assistant and how to reach a person (EU AI Act art. 50, in force since 2 August 2026)."""

import hashlib
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # No slots are carried over into a new session: what a resident told us yesterday is
        # not silently reused today (data minimisation).
        dispatcher.utter_message(response="utter_ai_disclosure")
        return [
            SessionStarted(),
            SlotSet("conversation_ref", new_conversation_ref()),
            ActionExecuted("action_listen"),
        ]


def new_conversation_ref() -> str:
    """A random id for one conversation session: it carries no phone number or other personal
    data, and tomorrow's session of the same resident gets another one (API contract v2)."""
    return f"c-{uuid.uuid4().hex}"


def conversation_ref(tracker: Tracker) -> tuple[str, list[EventType]]:
    """This session's opaque id, and the event that stores it when the session has none yet
    (a session that started before ids were introduced). That fallback is derived from the
    sender and the session's start time, hashed, so a retried action call sends the same id
    and the handover API recognises the retry instead of refusing a changed body."""
    current = tracker.get_slot("conversation_ref")
    if current:
        return str(current), []
    started = next(
        (
            e.get("timestamp")
            for e in reversed(tracker.events)
            if e.get("event") == "session_started"
        ),
        None,
    )
    digest = hashlib.sha256(f"{tracker.sender_id}|{started}".encode()).hexdigest()[:32]
    derived = f"c-{digest}"
    return derived, [SlotSet("conversation_ref", derived)]
