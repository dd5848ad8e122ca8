"""A durable queue for handovers (and consent withdrawals) the handover API could not take at
that moment.

A resident must never lose a handover because a server was down at 23:00. The action server
writes the complete request (payload + Idempotency-Key) here, tells the resident their
reference, and delivers it later. Because the key is re-used, a delivery that did reach the API
but whose answer got lost cannot create a duplicate.

A withdrawal of consent is queued the same way: a resident who says "trek mijn toestemming in"
while the API is down is told it is recorded, so it must reach the API later. A handover still
waiting in the queue is simply cancelled: then nothing was ever shared.

An erasure of a conversation's review copy ("verwijder mijn gegevens") is queued the same way:
the resident is told the copy is removed, so the request must reach the API, however late.

SQLite from the standard library keeps this dependency-free and durable across restarts.
"""

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.clients.handover_api import (
    HandoverApiClient,
    HandoverApiRejected,
    HandoverApiUnavailable,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 15 * 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL,
    rejected INTEGER NOT NULL DEFAULT 0
)
"""
_WITHDRAWALS = """
CREATE TABLE IF NOT EXISTS withdrawals (
    handover_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    delivered_at REAL
)
"""


_ERASURES = """
CREATE TABLE IF NOT EXISTS erasures (
    conversation_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    delivered_at REAL
)
"""


@dataclass(frozen=True)
class PendingHandover:
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)
            conn.execute(_WITHDRAWALS)
            conn.execute(_ERASURES)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def enqueue(self, key: str, payload: dict[str, Any], error: str) -> None:
        """Stores a request once; enqueueing the same key again keeps the first copy."""
        now = time.time()
        with self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (idempotency_key, payload, next_attempt_at,"
                " last_error, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, json.dumps(payload), now, error, now),
            )

    def due(self, now: float | None = None) -> list[PendingHandover]:
        now = time.time() if now is None else now
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT idempotency_key, payload, attempts FROM outbox WHERE delivered_at IS NULL"
                " AND rejected = 0 AND next_attempt_at <= ? ORDER BY created_at",
                (now,),
            ).fetchall()
        return [
            PendingHandover(key, json.loads(payload), attempts) for key, payload, attempts in rows
        ]

    def pending_count(self) -> int:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND rejected = 0)"
                " + (SELECT COUNT(*) FROM withdrawals WHERE delivered_at IS NULL)"
                " + (SELECT COUNT(*) FROM erasures WHERE delivered_at IS NULL)"
            ).fetchone()
        return int(row[0])

    def cancel(self, key: str) -> bool:
        """Drops a handover that was not delivered yet; True when there was one to drop."""
        with self._connect() as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE idempotency_key = ? AND delivered_at IS NULL", (key,)
            )
        return cursor.rowcount > 0

    def enqueue_withdrawal(self, handover_id: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO withdrawals (handover_id, created_at) VALUES (?, ?)",
                (handover_id, time.time()),
            )

    def due_withdrawals(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT handover_id FROM withdrawals WHERE delivered_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [row[0] for row in rows]

    def mark_withdrawal_delivered(self, handover_id: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE withdrawals SET delivered_at = ? WHERE handover_id = ?",
                (time.time(), handover_id),
            )

    def enqueue_erasure(self, conversation_id: str) -> None:
        """Queues the erasure of a conversation's review copy (again: it is queued anew)."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO erasures (conversation_id, created_at) VALUES (?, ?)"
                " ON CONFLICT (conversation_id) DO UPDATE SET delivered_at = NULL",
                (conversation_id, time.time()),
            )

    def due_erasures(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT conversation_id FROM erasures WHERE delivered_at IS NULL"
                " ORDER BY created_at"
            ).fetchall()
        return [row[0] for row in rows]

    def mark_erasure_delivered(self, conversation_id: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE erasures SET delivered_at = ? WHERE conversation_id = ?",
                (time.time(), conversation_id),
            )

    def mark_delivered(self, key: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET delivered_at = ? WHERE idempotency_key = ?", (time.time(), key)
            )

    def mark_failed(self, key: str, error: str, *, permanent: bool = False) -> None:
        """Schedules the next try with exponential back-off (30 s, 1 min, ... max 15 min)."""
        with self._connect() as conn:
            (attempts,) = conn.execute(
                "SELECT attempts FROM outbox WHERE idempotency_key = ?", (key,)
            ).fetchone()
            delay = min(30 * 2**attempts, MAX_BACKOFF_SECONDS)
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                " rejected = ? WHERE idempotency_key = ?",
                (error, time.time() + delay, int(permanent), key),
            )


async def deliver_due(outbox: Outbox, client: HandoverApiClient) -> int:
    """Tries every due handover, withdrawal and erasure once; returns how many handovers were
    delivered."""
    delivered = 0
    for item in outbox.due():
        try:
            await client.create_handover(item.payload, item.idempotency_key)
        except HandoverApiUnavailable as exc:
            outbox.mark_failed(item.idempotency_key, str(exc))
            logger.warning("handover %s still undeliverable", item.idempotency_key[:12])
            break  # the API is down: the others would fail the same way
        except HandoverApiRejected as exc:
            # A 4xx will not heal by waiting; keep it for a person to look at.
            outbox.mark_failed(item.idempotency_key, str(exc), permanent=True)
            logger.error(
                "handover %s rejected by the API (status %s)", item.idempotency_key[:12], exc.status
            )
        else:
            outbox.mark_delivered(item.idempotency_key)
            delivered += 1
    for handover_id in outbox.due_withdrawals():
        try:
            await client.withdraw_consent(handover_id)
        except HandoverApiUnavailable:
            break
        except HandoverApiRejected as exc:
            logger.error("consent withdrawal refused by the API (status %s)", exc.status)
        outbox.mark_withdrawal_delivered(handover_id)
    for conversation_id in outbox.due_erasures():
        try:
            await client.erase_conversation(conversation_id)
        except HandoverApiUnavailable:
            break
        except HandoverApiRejected as exc:
            logger.error("conversation erasure refused by the API (status %s)", exc.status)
        outbox.mark_erasure_delivered(conversation_id)
    return delivered


_retry_task: "asyncio.Task[None] | None" = None


def ensure_retry_loop(outbox: Outbox, client: HandoverApiClient, every: float) -> None:
    """Starts (once per process) a background loop that delivers queued handovers."""
    global _retry_task
    if _retry_task is not None and not _retry_task.done():
        return

    async def loop() -> None:
        while outbox.pending_count():
            await asyncio.sleep(every)
            await deliver_due(outbox, client)

    _retry_task = asyncio.get_running_loop().create_task(loop())
