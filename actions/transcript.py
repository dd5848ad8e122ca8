"""The conversation as the professional receives it: transcript events and a Dutch summary.

Event ids are derived from the Rasa event timestamps, so sending the same transcript twice
(a retry, a replayed webhook) cannot duplicate lines in the handover API.

The transcript shows what the resident saw: a button click reaches Rasa as its payload
("/affirm", '/inform{"x": 1}'), which the professional cannot read; it is replaced by the
title of the matching button of the last bot message that offered buttons ("Ja", "Om mij"),
or by "(knop gekozen)" when no button matches. A bot message with buttons lists them ("[Ja] [Nee]").
"""

import hashlib
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker

# The one BSN rule shared with the handover API (stdlib-only package at the repository root):
# no BSN leaves the conversation, even when a resident typed one despite the warning.
from privacy.redaction import strip_bsn

__all__ = ["build_summary", "strip_bsn", "transcript_events", "user_messages"]

MAX_TEXT = 10_000
BUTTON_CHOSEN = "(knop gekozen)"


def _buttons(event: dict[str, Any]) -> list[dict[str, Any]]:
    data = event.get("data") or {}
    buttons = data.get("buttons") if isinstance(data, dict) else None
    return [b for b in buttons or [] if isinstance(b, dict) and b.get("title")]


def _compact(payload: str) -> str:
    return "".join(payload.split())


def button_title(payload: str, buttons: list[dict[str, Any]]) -> str | None:
    """The title of the button whose payload is ``payload`` (spacing ignored), or None."""
    for wanted in (payload, _compact(payload)):
        for button in buttons:
            given = str(button.get("payload") or "")
            if given == wanted or _compact(given) == wanted:
                return str(button["title"])
    return None


def _shown_text(kind: str, text: str, event: dict[str, Any], offered: list[dict[str, Any]]) -> str:
    """The text as the resident saw it (see the module docstring)."""
    if kind == "user" and text.startswith("/"):
        return button_title(text.strip(), offered) or BUTTON_CHOSEN
    if kind == "bot":
        buttons = _buttons(event)
        if buttons:
            return text + "\n" + " ".join(f"[{b['title']}]" for b in buttons)
    return text


def _event_id(conversation_id: str, event: dict[str, Any]) -> str:
    raw = f"{conversation_id}|{event.get('event')}|{event.get('timestamp')}|{event.get('text')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _iso(timestamp: float | None) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC) if timestamp else datetime.now(UTC)
    return moment.isoformat()


def transcript_events(tracker: Tracker) -> list[dict[str, Any]]:
    """User and bot messages of the conversation, oldest first, in the API's event shape."""
    items = []
    # The buttons of the last bot message that had any, until the resident answers them (a
    # bot message without buttons after the question does not take them away).
    offered: list[dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        text = event.get("text")
        if kind == "bot" and _buttons(event):
            offered = _buttons(event)
        if kind not in ("user", "bot") or not text:
            continue
        shown = _shown_text(str(kind), str(text), event, offered)
        if kind == "user":
            offered = []
        item: dict[str, Any] = {
            "event_id": _event_id(tracker.sender_id, event),
            "sender": "user" if kind == "user" else "bot",
            "text": strip_bsn(shown)[:MAX_TEXT],
            "at": _iso(event.get("timestamp")),
        }
        intent = (event.get("parse_data") or {}).get("intent", {}).get("name")
        if kind == "user" and intent:
            item["intent"] = intent
        items.append(item)
    return items


def user_messages(tracker: Tracker) -> list[str]:
    return [
        strip_bsn(str(e["text"]))
        for e in tracker.events
        if e.get("event") == "user" and e.get("text") and not str(e["text"]).startswith("/")
    ]


def build_summary(
    *,
    question: str | None,
    municipality: str,
    user_texts: list[str],
    domains: list[str],
    phone_given: bool,
    channel: str,
    notes: list[str] | None = None,
    safety: str | None = None,
) -> str:
    """A few Dutch lines so the professional can call without asking everything again.
    Safety first: when and how contact is safe, and what the resident asked to be respected."""
    lines = []
    if safety:
        lines.append(f"VEILIG CONTACT (woorden van de inwoner): \u201c{strip_bsn(safety)}\u201d.")
    lines += [
        f"Vraag: {question or 'wil graag contact met een medewerker'}.",
        f"Gemeente: {municipality}. Kanaal: {channel}.",
    ]
    for note in notes or []:
        lines.append(f"Voorwaarde van de inwoner: \u201c{strip_bsn(note)}\u201d.")
    if domains:
        lines.append(
            "Leefgebieden genoemd: " + ", ".join(d.replace("_", " ") for d in domains) + "."
        )
    told = [t for t in user_texts if len(t.split()) >= 4][:3]
    if told:
        lines.append("In eigen woorden: " + " / ".join(f"“{t[:300]}”" for t in told))
    lines.append("Telefoonnummer gegeven: ja." if phone_given else "Geen telefoonnummer gegeven.")
    return "\n".join(lines)[:4000]
