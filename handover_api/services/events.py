"""A handover's timeline: what happened, as named events, with who and when.

``record`` adds one ``HandoverEvent`` to the session (committed with the caller's change); it is
called where things happen: creating a handover (``consent_given``, ``created``), status
changes (``claimed``, ``in_progress``, ``released`` back to new, ``closed``, ``returned`` with
the organisation it went to; the successor gets ``created`` and, when the returning
professional confirmed it, ``consent_given``), assignment (``assigned``), call attempts
(``contact_made``, ``contact_failed``, ``contact_attempted`` with the agreed ``callback_at``),
consent withdrawal (``consent_withdrawn``), messages (``message_sent``,
``message_received``), the team's announcement (``team_notified``, ``services/notifications``)
and escalation (``escalated``, ``services/escalation``).

``detail`` holds non-personal facts only: outcomes, organisation and team ids, channels,
moments, staff usernames. Never a resident's name, phone number, text or a free-text reason.

``describe`` is how a case worker reads an event (Dutch); ``KIND_LABELS`` name the kinds in
the dashboard.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import EVENT_KINDS, Handover, HandoverEvent, utcnow
from handover_api.schemas import HandoverEventOut

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
SYSTEM = "system"

# The kinds as the dashboard names them (lower case: "3 × contact gehad").
KIND_LABELS: dict[str, str] = {
    "consent_given": "toestemming gegeven",
    "created": "overdracht ontvangen",
    "team_notified": "team op de hoogte gebracht",
    "claimed": "opgepakt",
    "released": "teruggezet naar nieuw",
    "in_progress": "in behandeling genomen",
    "assigned": "toegewezen",
    "contact_attempted": "terugbellen afgesproken",
    "contact_made": "contact gehad",
    "contact_failed": "niet bereikt",
    "message_sent": "bericht verstuurd",
    "message_received": "bericht ontvangen",
    "forwarded": "doorgestuurd",
    "returned": "teruggelegd",
    "escalated": "opgeschaald",
    "consent_withdrawn": "toestemming ingetrokken",
    "closed": "afgesloten",
}
assert set(KIND_LABELS) == set(EVENT_KINDS)

# Kinds whose Dutch text already names who did it ("Opgepakt door Sanne").
NAMED_KINDS = frozenset({"claimed", "released", "in_progress", "assigned"})

CHANNEL_NAMES = {"sms": "sms", "whatsapp": "WhatsApp", "web": "de webchat"}


def record(
    session: Session,
    handover: Handover,
    kind: str,
    actor: str,
    actor_name: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> HandoverEvent:
    """Add one event of ``handover`` to the session (committed with the surrounding change)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown handover event kind {kind!r}")
    event = HandoverEvent(
        handover_id=handover.id,
        kind=kind,
        at=at or utcnow(),
        actor=actor,
        actor_name=actor_name,
        detail=detail or None,
    )
    session.add(event)
    return event


def events_of(session: Session, *, handover_id: uuid.UUID) -> Sequence[HandoverEvent]:
    """The handover's events, oldest first (in recording order within the same moment)."""
    return session.scalars(
        select(HandoverEvent)
        .where(HandoverEvent.handover_id == handover_id)
        .order_by(HandoverEvent.at, HandoverEvent.id)
    ).all()


def to_out(event: HandoverEvent) -> HandoverEventOut:
    return HandoverEventOut(
        kind=event.kind,
        at=event.at,
        actor=event.actor,
        actor_name=event.actor_name,
        detail=event.detail or {},
    )


def timeline(session: Session, *, handover: Handover) -> list[HandoverEventOut]:
    return [to_out(e) for e in events_of(session, handover_id=handover.id)]


# --- how a case worker reads it -------------------------------------------------------------


def _local(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    return moment.astimezone(LOCAL_TIME).strftime("%d-%m-%Y %H:%M")


def who(event: HandoverEventOut) -> str:
    """Who did it, for people: the professional's name, "Voordeur" (the assistant) or
    "systeem"."""
    if event.actor_name:
        return event.actor_name
    if event.actor.startswith("service:"):
        return "Voordeur"
    if event.actor.startswith("staff:"):
        return event.actor.removeprefix("staff:")
    return "systeem"


def describe(event: HandoverEventOut, org_name: Callable[..., str]) -> str:
    """The event in Dutch ("Opgepakt door Sanne", "Belpoging: niet bereikt", "Teruggelegd
    naar Gemeente Helmond"); ``org_name(organisation, team=None)`` gives readable names."""
    d = event.detail
    name = who(event)
    match event.kind:
        case "consent_given":
            org = d.get("organisation")
            return f"Toestemming gegeven voor {org_name(org)}" if org else "Toestemming gegeven"
        case "created":
            if d.get("returned_from"):
                return f"Overdracht ontvangen, teruggelegd door {org_name(d['returned_from'])}"
            return "Overdracht ontvangen"
        case "team_notified":
            how = {"email": "per e-mail", "webhook": "via de koppeling"}.get(
                str(d.get("channel")), ""
            )
            what = (
                "Opschaling gemeld"
                if d.get("notification") == "escalation"
                else "Team op de hoogte gebracht"
            )
            return f"{what} {how}".strip()
        case "claimed":
            return f"Opgepakt door {name}"
        case "released":
            return f"Teruggezet naar nieuw door {name}"
        case "in_progress":
            return f"In behandeling genomen door {name}"
        case "assigned":
            to = d.get("to_name") or d.get("to_username") or "een collega"
            return f"Toegewezen aan {to} door {name}"
        case "contact_attempted":
            moment = _local(d.get("callback_at"))
            if moment:
                return f"Belpoging: terugbellen afgesproken op {moment}"
            return "Belpoging: terugbellen afgesproken"
        case "contact_made":
            return "Contact gehad"
        case "contact_failed":
            return "Belpoging: niet bereikt"
        case "message_sent":
            channel = CHANNEL_NAMES.get(str(d.get("channel")), "")
            return f"Bericht aan de inwoner via {channel}" if channel else "Bericht aan de inwoner"
        case "message_received":
            files = int(d.get("files") or 0)
            if files:
                return f"Bericht van de inwoner ontvangen met {files} bestand" + (
                    "en" if files > 1 else ""
                )
            return "Bericht van de inwoner ontvangen"
        case "forwarded":
            to = d.get("to")
            return f"Doorgestuurd naar {org_name(to, d.get('team'))}" if to else "Doorgestuurd"
        case "returned":
            to = d.get("to")
            return f"Teruggelegd naar {org_name(to, d.get('team'))}" if to else "Teruggelegd"
        case "escalated":
            hours = d.get("claim_within_hours")
            if isinstance(hours, int | float):
                shown = f"{hours:g}".replace(".", ",")
                unit = "werkuur" if hours == 1 else "werkuren"
                return f"Opgeschaald: niet opgepakt binnen {shown} {unit}"
            return "Opgeschaald"
        case "consent_withdrawn":
            return "Toestemming ingetrokken"
        case "closed":
            return "Afgesloten"
    return event.kind  # pragma: no cover - EVENT_KINDS are all named above
