"""What every outbox of the handover API shares: due rows, claiming, backoff and failure.

An outbox row (``HandoverExport``, ``HandoverNotification``) has ``status`` (pending | done |
failed), ``attempts``, ``next_attempt_at`` and ``last_error``. A runner takes the due rows
(``due``), claims each one with an ``UPDATE`` that moves ``next_attempt_at`` forward by
``LEASE`` only if nobody changed it meanwhile (``claim``: two runners, or the API's immediate
attempt and the worker, never work on the same row), does the work and records the outcome
(``succeed`` / ``fail``: retried after ``backoff(attempts)``, 1, 2, 4 ... minutes up to 6
hours, ``failed`` after ``MAX_ATTEMPTS`` or at once when retrying cannot help).
``retry_failed`` puts failed rows back after the cause was fixed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from handover_api.models import HandoverExport, HandoverNotification, utcnow

OutboxRow = HandoverExport | HandoverNotification
OutboxModel = type[HandoverExport] | type[HandoverNotification]
Outcome = Literal["done", "retrying", "failed"]

MAX_ATTEMPTS = 10
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
LEASE = timedelta(minutes=10)


@dataclass
class DeliveryReport:
    done: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failed ones: 1, 2, 4 ... min, max 6h."""
    delay: timedelta = BASE_DELAY * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, MAX_DELAY)


def due(
    session: Session,
    model: OutboxModel,
    now: datetime,
    limit: int,
    *conditions: ColumnElement[bool],
) -> list[tuple[uuid.UUID, int]]:
    """(id, attempts) of the pending rows whose next attempt is due (and that meet
    ``conditions``), oldest first."""
    rows = session.execute(
        select(model.id, model.attempts)
        .where(model.status == "pending", model.next_attempt_at <= now, *conditions)
        .order_by(model.next_attempt_at)
        .limit(limit)
    ).all()
    return [(row_id, attempts) for row_id, attempts in rows]


def claim(
    session: Session, model: OutboxModel, row_id: uuid.UUID, attempts: int, now: datetime
) -> bool:
    """Take the row for this runner: only if nobody else changed or leased it meanwhile."""
    result = session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.status == "pending",
            model.attempts == attempts,
            model.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return getattr(result, "rowcount", 0) == 1


def succeed(row: OutboxRow, now: datetime) -> Outcome:
    row.attempts += 1
    row.status = "done"
    row.done_at = now
    row.last_error = None
    return "done"


def fail(row: OutboxRow, message: str, *, retry: bool, now: datetime) -> Outcome:
    """Count the failed attempt; schedule the next one, or give up (``failed``)."""
    row.attempts += 1
    row.last_error = message[:500]
    if retry and row.attempts < MAX_ATTEMPTS:
        row.next_attempt_at = now + backoff(row.attempts)
        return "retrying"
    row.status = "failed"
    return "failed"


def retry_failed(session: Session, model: OutboxModel, now: datetime | None = None) -> int:
    """Put every failed row back to pending, due now, with a fresh attempt count."""
    result = session.execute(
        update(model)
        .where(model.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0))
