"""Telling a team that a handover arrived, or that nobody claimed it in time.

A warm handover is only warm when someone picks it up: the inbox alone tells nobody.

1. ``on_arrival(session, handover, directory)`` (called by ``handovers.create_handover`` and
   for the successor of a returned case, before they commit) sets the handover's deadline to
   claim it (``claim_due_at``: the team's claim time in working hours, ``services/directory``
   ``handling:``), queues the team's announcement (``enqueue``) and the organisation's export.
2. ``enqueue(session, handover, kind)`` adds a pending ``HandoverNotification`` (``new`` or
   ``escalation``) when the team has a ``notify:`` channel: one row per handover and kind, so
   a repeated call, a retried request or two runners never announce twice. Teams with an
   example configuration get none (``VOORDEUR_NOTIFY_EXAMPLES`` on a local run: they do).
3. ``deliver_due(session, settings)`` (``cli worker``; and at once after the API stored a
   handover, ``deliver_handover``) sends the due rows through the channel's sender
   (``handover_api/notify``): the reference, the team and a link to the case, never the
   resident's data. Success records the ``team_notified`` event; failures are retried with the
   outbox's backoff (``services/outbox.py``) and ``last_error`` holds no personal data.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from fastapi import BackgroundTasks, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.config import Settings
from handover_api.models import Handover, HandoverNotification, utcnow
from handover_api.notify import (
    EmailSender,
    Notification,
    NotifyError,
    SmtpSettings,
    WebhookSender,
)
from handover_api.notify.base import Sender
from handover_api.services import audit, events, exports, outbox
from handover_api.services.directory import Directory, DirectoryError, current
from handover_api.services.outbox import DeliveryReport, Outcome

logger = logging.getLogger(__name__)

ACTOR = "system:notify"
KIND_EVENTS = {"new": "handover.created", "escalation": "handover.escalated"}

# Whether example configurations are notified too (``VOORDEUR_NOTIFY_EXAMPLES``); set by the
# app factory and the worker from the settings (``configure``), False otherwise.
_include_examples = False


def configure(settings: Settings) -> None:
    global _include_examples
    _include_examples = settings.VOORDEUR_NOTIFY_EXAMPLES


def claim_deadline(
    handover: Handover, directory: Directory, start: datetime | None = None
) -> datetime | None:
    """When ``handover`` must be claimed: the team's claim time (working hours, urgent
    shorter) counted in the team's working time from ``start`` (default: its creation);
    None if it never fits."""
    org, team = handover.destination_organisation, handover.destination_team
    hours = directory.claim_within(org, team, urgent=handover.priority == "urgent")
    calendar = directory.handling(org, team).calendar
    begin = start or handover.created_at or utcnow()
    return calendar.add_working_time(begin, timedelta(hours=hours))


def restart_claim(
    session: Session, handover: Handover, *, directory: Directory, announce: bool = False
) -> None:
    """Nobody has the case any more (released, or forwarded to another team): its team's
    claim time starts now, it may be escalated again, and with ``announce`` the (new) team
    is told as for a new handover. Earlier announcements stay on the timeline as events;
    their outbox rows make way for this round's (not committed here)."""
    handover.claim_due_at = claim_deadline(handover, directory, start=utcnow())
    handover.escalated_at = None
    kinds = ["escalation", "new"] if announce else ["escalation"]
    for row in session.scalars(
        select(HandoverNotification).where(
            HandoverNotification.handover_id == handover.id, HandoverNotification.kind.in_(kinds)
        )
    ):
        session.delete(row)
    session.flush()
    if announce:
        enqueue(session, handover, "new", directory=directory)


def on_arrival(session: Session, handover: Handover, *, directory: Directory | None = None) -> None:
    """Everything a new handover of a team starts: its claim deadline, the team's
    announcement and the organisation's export (not committed here)."""
    exports.enqueue(session, handover, directory=directory)
    try:
        team_config = directory or current()
    except DirectoryError:  # requests were validated with it already; never block creation
        logger.exception("claim deadline and notification skipped: configuration unreadable")
        return
    handover.claim_due_at = claim_deadline(handover, team_config)
    enqueue(session, handover, "new", directory=team_config)


def enqueue(
    session: Session, handover: Handover, kind: str, *, directory: Directory
) -> HandoverNotification | None:
    """A pending announcement of ``kind`` when the team has a channel for it (not committed)."""
    config = directory.notify_config(
        handover.destination_organisation,
        handover.destination_team,
        include_examples=_include_examples,
    )
    destination = config.destination(kind) if config else ()
    if config is None or not destination:
        return None
    existing = session.scalar(
        select(HandoverNotification).where(
            HandoverNotification.handover_id == handover.id, HandoverNotification.kind == kind
        )
    )
    if existing is not None:
        return existing
    row = HandoverNotification(
        handover_id=handover.id,
        kind=kind,
        channel=config.channel,
        destination=list(destination),
        secret_env=config.secret_env,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    return row


def senders_for(settings: Settings) -> dict[str, Sender]:
    """The channel -> sender map of these settings (tests pass their own)."""
    password = settings.VOORDEUR_SMTP_PASSWORD
    return {
        "email": EmailSender(
            SmtpSettings(
                host=settings.VOORDEUR_SMTP_HOST or "",
                port=settings.VOORDEUR_SMTP_PORT,
                username=settings.VOORDEUR_SMTP_USERNAME,
                password=password.get_secret_value() if password else None,
                starttls=settings.VOORDEUR_SMTP_STARTTLS,
                ssl=settings.VOORDEUR_SMTP_SSL,
                from_address=settings.VOORDEUR_MAIL_FROM,
            )
        ),
        "webhook": WebhookSender(),
    }


def notification_of(
    row: HandoverNotification, handover: Handover, directory: Directory, base_url: str
) -> Notification:
    """What the team is told: reference, team, priority, moments and a link; no resident data."""
    org = directory.organisation(handover.destination_organisation)
    team = org.teams.get(handover.destination_team) if org else None
    return Notification(
        kind="escalation" if row.kind == "escalation" else "new",
        delivery_id=str(row.id),
        handover_id=str(handover.id),
        reference=handover.reference,
        urgent=handover.priority == "urgent",
        organisation_name=org.name if org else handover.destination_organisation,
        team_name=team.name if team else handover.destination_team,
        link=f"{base_url}/staff/handovers/{handover.id}",
        created_at=handover.created_at,
        claim_due_at=handover.claim_due_at,
    )


def deliver_one(
    session: Session,
    row: HandoverNotification,
    *,
    directory: Directory,
    senders: Mapping[str, Sender],
    base_url: str,
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> Outcome:
    """Send one claimed row; returns ``done``, ``retrying`` or ``failed``. Commits."""
    handover = session.get(Handover, row.handover_id)
    sender = senders.get(row.channel)
    if handover is None or sender is None:
        outcome = outbox.fail(row, f"no sender for channel {row.channel}", retry=False, now=now)
        session.commit()
        return outcome
    secret = (environ if environ is not None else os.environ).get(row.secret_env or "")
    try:
        sender.send(
            notification_of(row, handover, directory, base_url),
            destination=tuple(row.destination),
            secret=secret,
        )
    except NotifyError as exc:
        outcome = outbox.fail(row, str(exc), retry=exc.retry, now=now)
    except Exception as exc:  # a bug must not stop the other notifications
        logger.exception("notification %s of handover %s crashed", row.kind, row.handover_id)
        outcome = outbox.fail(row, f"unexpected {type(exc).__name__}", retry=True, now=now)
    else:
        outcome = outbox.succeed(row, now)
        events.record(
            session,
            handover,
            "team_notified",
            actor=ACTOR,
            detail={"notification": row.kind, "channel": row.channel},
            at=now,
        )
    audit.record(
        session,
        actor=ACTOR,
        action="handover.notify",
        resource_type="handover",
        resource_id=str(row.handover_id),
        detail={
            "handover_id": str(row.handover_id),
            "notification": row.kind,
            "channel": row.channel,
            "outcome": outcome,
            "attempt": row.attempts,
        },
    )
    session.commit()
    logger.info(
        "notification %s of handover %s by %s: %s (attempt %d)",
        row.kind,
        row.handover_id,
        row.channel,
        outcome,
        row.attempts,
    )
    return outcome


def deliver_due(
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    *,
    directory: Directory | None = None,
    senders: Mapping[str, Sender] | None = None,
    handover_id: uuid.UUID | None = None,
    limit: int = 50,
) -> DeliveryReport:
    """Send the due announcements (of one handover when ``handover_id`` is given). Commits."""
    now = now or utcnow()
    directory = directory or current()
    senders = senders if senders is not None else senders_for(settings)
    report = DeliveryReport()
    only = [] if handover_id is None else [HandoverNotification.handover_id == handover_id]
    for row_id, attempts in outbox.due(session, HandoverNotification, now, limit, *only):
        if not outbox.claim(session, HandoverNotification, row_id, attempts, now):
            continue
        row = session.get(HandoverNotification, row_id, populate_existing=True)
        if row is None:  # pragma: no cover - deleted with its handover meanwhile
            continue
        report.add(
            deliver_one(
                session,
                row,
                directory=directory,
                senders=senders,
                base_url=settings.public_base_url,
                now=now,
            )
        )
    return report


def has_pending(session: Session, handover_id: uuid.UUID) -> bool:
    """Whether an announcement of this handover waits to be sent."""
    return (
        session.scalar(
            select(HandoverNotification.id)
            .where(
                HandoverNotification.handover_id == handover_id,
                HandoverNotification.status == "pending",
            )
            .limit(1)
        )
        is not None
    )


def announce_soon(
    request: Request, background: BackgroundTasks, session: Session, handover_id: uuid.UUID
) -> None:
    """After a route stored a handover (created, forwarded): send its pending announcement
    right after the response, in a background task; the worker retries what fails.

    The request's session ends its transaction first: on SQLite every transaction holds the
    write lock (BEGIN IMMEDIATE), and the session is closed only after the background task,
    which needs that lock.
    """
    if not has_pending(session, handover_id):
        return
    session.commit()
    background.add_task(
        deliver_handover,
        request.app.state.db.session_factory,
        request.app.state.settings,
        handover_id,
    )


def deliver_handover(
    session_factory: Callable[[], Session], settings: Settings, handover_id: uuid.UUID
) -> None:
    """The immediate attempt after the API stored a handover (a background task): its team
    hears within seconds; what fails here stays in the outbox for the worker."""
    try:
        with session_factory() as session:
            deliver_due(session, settings, handover_id=handover_id)
    except Exception:  # never let a notification problem surface in the API's response cycle
        logger.exception("immediate notification of handover %s failed", handover_id)


def retry_failed(session: Session, now: datetime | None = None) -> int:
    """Put every failed announcement back to pending (after fixing the cause)."""
    return outbox.retry_failed(session, HandoverNotification, now)
