"""Which channel a resident uses, and how to show choices there.

SMS and WhatsApp have no buttons, so choices become numbered lines ("1. Ja"); the NLU is
trained to read "1" as affirm and "2" as deny. Web chat gets real buttons.
"""

from typing import Any

from rasa_sdk import Tracker

CHANNELS = ("web", "sms", "whatsapp", "rest", "shell")
_INPUT_CHANNEL_MAP = {"socketio": "web", "rest": "rest", "cmdline": "shell", "twilio": "sms"}
TEXT_ONLY = {"sms", "whatsapp"}

Choice = tuple[str, str]  # (title shown to the resident, payload such as "/affirm")
YES_NO: list[Choice] = [("Ja", "/affirm"), ("Nee", "/deny")]


def channel_of(tracker: Tracker) -> str:
    """The contract's channel name for this conversation (web|sms|whatsapp|rest|shell)."""
    metadata = tracker.latest_message.get("metadata") or {}
    declared = metadata.get("channel")
    if declared in CHANNELS:
        return str(declared)
    return _INPUT_CHANNEL_MAP.get(tracker.get_latest_input_channel() or "", "rest")


def choice_message(text: str, choices: list[Choice], channel: str) -> dict[str, Any]:
    """Keyword arguments for `dispatcher.utter_message` showing `choices` the channel's way."""
    if channel in TEXT_ONLY:
        lines = "\n".join(f"{i}. {title}" for i, (title, _) in enumerate(choices, 1))
        return {"text": f"{text}\n{lines}"}
    return {"text": text, "buttons": [{"title": t, "payload": p} for t, p in choices]}
