"""Conversation start: every conversation opens by saying plainly that this is an automated
(AI) assistant and how to reach a person (EU AI Act art. 50, in force since 2 August 2026)."""

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
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
        return [SessionStarted(), ActionExecuted("action_listen")]
