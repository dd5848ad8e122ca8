"""The conversation as the professional receives it: transcript events and a Dutch summary.

Event ids are derived from the Rasa event timestamps, so sending the same transcript twice
(a retry, a replayed webhook) cannot duplicate lines in the handover API.
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


def _event_id(conversation_id: str, event: dict[str, Any]) -> str:
    raw = f"{conversation_id}|{event.get('event')}|{event.get('timestamp')}|{event.get('text')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _iso(timestamp: float | None) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC) if timestamp else datetime.now(UTC)
    return moment.isoformat()


def transcript_events(tracker: Tracker) -> list[dict[str, Any]]:
    """User and bot messages of the conversation, oldest first, in the API's event shape."""
    items = []
    for event in tracker.events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        item: dict[str, Any] = {
            "event_id": _event_id(tracker.sender_id, event),
            "sender": "user" if kind == "user" else "bot",
            "text": strip_bsn(str(text))[:MAX_TEXT],
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
