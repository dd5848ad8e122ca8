"""What a team is told about a handover, in words and as data; shared by every sender.

A ``Notification`` is deliberately poor: the reference, the team, the priority, two moments and
a link to the case in Voordeur. It has no field for anything the resident said or gave (name,
phone, summary, life domains): an e-mail or a webhook leaves Voordeur's control (mail servers,
forwarding rules, a receiver's logs), so nothing there may identify the resident. The
professional opens the link and sees the rest behind Voordeur's login. Do not add resident
fields here; the tests pin the field list.

``subject`` and ``body_text`` are the Dutch wording (B1, short) of the e-mail; ``EVENTS`` the
event names of the webhook and the e-mail headers. A sender (``Sender``) raises ``NotifyError``
with a message that is stored in the outbox row's ``last_error``: status codes, host names and
exception class names only, never a server's reply text (it may echo an address).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from common.dutch_dates import MONTH_NAMES, WEEKDAY_NAMES
from common.opening_hours import LOCAL_TIME

Kind = Literal["new", "escalation"]

# kind -> event name, in the webhook payload and the X-Voordeur-Event header of both channels.
EVENTS: dict[str, str] = {"new": "handover.created", "escalation": "handover.escalated"}
# The outbox stores ``last_error`` in a column of this size.
MAX_ERROR_LENGTH = 500
NO_PERSONAL_DATA = (
    "Deze e-mail bevat bewust geen persoonsgegevens. "
    "Gegevens van de inwoner staan alleen in Voordeur."
)


@dataclass(frozen=True)
class Notification:
    """One announcement to a team: a new handover, or one nobody claimed in time.

    ``delivery_id`` is the outbox row's id: the same on every retry of this announcement, so a
    receiver (webhook) or mail client (Message-ID) can drop a duplicate.
    ``created_at`` and ``claim_due_at`` are aware UTC moments (naive ones are read as UTC).
    """

    kind: Kind
    delivery_id: str
    handover_id: str
    reference: str
    urgent: bool
    organisation_name: str
    team_name: str
    link: str
    created_at: datetime
    claim_due_at: datetime | None


class NotifyError(Exception):
    """A delivery attempt failed; ``retry`` says whether a later attempt may succeed.

    The message ends up in ``last_error`` (cut at 500 characters): it names status codes, host
    names and exception classes, never personal data or a server's reply text.
    """

    def __init__(self, message: str, *, retry: bool) -> None:
        message = message[:MAX_ERROR_LENGTH]
        super().__init__(message)
        self.message = message
        self.retry = retry


class Sender(Protocol):
    """A channel (``email``, ``webhook``): sends ``notification`` to ``destination`` (the
    team's addresses, or its URL) and returns None, or raises ``NotifyError``. ``secret`` is
    the webhook's signing secret (None for e-mail)."""

    def send(
        self,
        notification: Notification,
        *,
        destination: tuple[str, ...],
        secret: str | None = None,
    ) -> None: ...


def event_of(notification: Notification) -> str:
    """``handover.created`` or ``handover.escalated``."""
    return EVENTS[notification.kind]


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive moment (SQLite gives those back) is taken to be UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (``2026-12-08T13:30:00Z``), for machines."""
    if moment is None:
        return None
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def local_moment(moment: datetime) -> str:
    """A moment as a Dutch professional reads it, in Amsterdam time, with the weekday:
    ``dinsdag 8 december 14.30 uur`` (no "vandaag"/"morgen": a mail is read later)."""
    local = as_utc(moment).astimezone(LOCAL_TIME)
    day = f"{WEEKDAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}"
    return f"{day} {local.hour}.{local.minute:02d} uur"


def _one_line(text: str) -> str:
    """Configuration text on one line: a team name with a line break must not break the
    subject header or the layout of the body."""
    return " ".join(text.split())


def subject(n: Notification) -> str:
    """The e-mail subject: what happened, the reference and the team; SPOED first when urgent,
    so it stands out in a full inbox."""
    team = _one_line(n.team_name)
    if n.kind == "escalation":
        if n.urgent:
            return f"SPOED – niet opgepakt: overdracht {n.reference} voor {team}"
        return f"Niet opgepakt: overdracht {n.reference} voor {team}"
    if n.urgent:
        return f"SPOED: nieuwe overdracht {n.reference} voor {team}"
    return f"Nieuwe overdracht {n.reference} voor {team}"


def body_text(n: Notification) -> str:
    """The e-mail body (Dutch, B1): what happened, the reference, the team, until when to claim
    it, the link, and why the mail holds no more than that."""
    team = _one_line(n.team_name)
    organisation = _one_line(n.organisation_name)
    lines: list[str] = []
    if n.kind == "escalation":
        lines.append(f"Een overdracht voor {team} ({organisation}) is niet op tijd opgepakt.")
    else:
        lines.append(f"Er is een nieuwe overdracht voor {team} ({organisation}).")
    lines.append("")
    lines.append(f"Kenmerk: {n.reference}")
    if n.urgent:
        lines.append("Prioriteit: spoed")
    if n.kind == "escalation":
        if n.claim_due_at is not None:
            lines.append(f"Dit had opgepakt moeten worden vóór {local_moment(n.claim_due_at)}.")
        lines.append("Zorg dat iemand de overdracht nu oppakt.")
    elif n.claim_due_at is not None:
        lines.append(f"Graag oppakken vóór {local_moment(n.claim_due_at)}.")
    else:
        lines.append("Graag zo snel mogelijk oppakken.")
    lines += [
        "",
        "Open de overdracht in Voordeur:",
        n.link,
        "",
        NO_PERSONAL_DATA,
        "Dit is een automatisch bericht van Voordeur.",
    ]
    return "\n".join(lines) + "\n"
