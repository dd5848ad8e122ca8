"""Which Twilio MessageSids are being handled or were handled already, shared by processes.

Twilio calls the webhook again when an answer is slow or fails, and a resident must neither get
every answer twice nor lose a message because the first attempt failed. So a webhook first
*claims* its MessageSid with a short lease, is handled, and only then marks the sid *done* for a
long time. A failed attempt releases its claim, so Twilio's retry is handled; a crashed process
leaves a lease that simply expires.

The store is chosen by URL (`VOORDEUR_TWILIO_DEDUP_URL`, or `dedup_url` in credentials.yml):

- `redis://host:port/db` (or `rediss://`): Redis, shared by every replica. `SET NX PX` claims,
  `SET EX` marks done, a compare-and-delete script releases. An optional `?prefix=...` in the URL
  namespaces the keys (default `voordeur:twilio:sid:`).
- `sqlite:///path/to/file.sqlite3`: one SQLite file, safe for several processes on one machine
  (each operation is one `BEGIN IMMEDIATE` transaction). As in SQLAlchemy URLs, four slashes
  give an absolute path (`sqlite:////srv/voordeur/twilio.sqlite3`); three a path relative to
  the repository.
- `memory://`: this process only; for unit tests.
- nothing set: SQLite at `$VOORDEUR_VAR_DIR/twilio_seen.sqlite3` (default `<repo>/var/`), so a
  restart keeps its memory.
"""

import asyncio
import contextlib
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent.parent
DEDUP_URL_ENV = "VOORDEUR_TWILIO_DEDUP_URL"
CLAIM_LEASE_SECONDS = 60.0  # longer than Rasa needs for one message; a crash frees it this fast
DONE_TTL_SECONDS = 48 * 3600.0  # Twilio stops retrying long before this
DEFAULT_REDIS_PREFIX = "voordeur:twilio:sid:"


class ClaimOutcome(Enum):
    """What claiming a MessageSid found."""

    CLAIMED = "claimed"  # ours to handle now
    DONE = "done"  # handled before: a replay
    IN_PROGRESS = "in_progress"  # another request holds a live lease on it


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    token: str = ""  # proves ownership when marking done or releasing

    @property
    def claimed(self) -> bool:
        return self.outcome is ClaimOutcome.CLAIMED


class DedupStore(Protocol):
    """Claim → (handle) → mark_done, or release on failure."""

    async def claim(self, sid: str) -> Claim: ...

    async def mark_done(self, sid: str, token: str) -> None: ...

    async def release(self, sid: str, token: str) -> None: ...

    async def close(self) -> None: ...


class MemoryDedupStore:
    """One process only: for unit tests, never for a real deployment."""

    def __init__(
        self, lease_seconds: float = CLAIM_LEASE_SECONDS, done_ttl_seconds: float = DONE_TTL_SECONDS
    ) -> None:
        self.lease_seconds = lease_seconds
        self.done_ttl_seconds = done_ttl_seconds
        self._entries: dict[str, tuple[str, str, float]] = {}  # sid -> (state, token, expires)

    async def claim(self, sid: str) -> Claim:
        now = time.time()
        self._entries = {k: v for k, v in self._entries.items() if v[2] > now}
        entry = self._entries.get(sid)
        if entry is not None:
            return Claim(ClaimOutcome.DONE if entry[0] == "done" else ClaimOutcome.IN_PROGRESS)
        token = uuid.uuid4().hex
        self._entries[sid] = ("claimed", token, now + self.lease_seconds)
        return Claim(ClaimOutcome.CLAIMED, token)

    async def mark_done(self, sid: str, token: str) -> None:
        self._entries[sid] = ("done", token, time.time() + self.done_ttl_seconds)

    async def release(self, sid: str, token: str) -> None:
        entry = self._entries.get(sid)
        if entry is not None and entry[0] == "claimed" and entry[1] == token:
            del self._entries[sid]

    async def close(self) -> None:
        return None


class SqliteDedupStore:
    """A SQLite file: survives restarts and is shared by the processes of one machine.

    Every operation opens its own connection in a worker thread (so the event loop never waits
    on the file lock) and runs one `BEGIN IMMEDIATE` transaction, which SQLite serialises
    between processes: two processes can never both claim the same sid.
    """

    def __init__(
        self,
        path: Path,
        lease_seconds: float = CLAIM_LEASE_SECONDS,
        done_ttl_seconds: float = DONE_TTL_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self.done_ttl_seconds = done_ttl_seconds
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS twilio_seen ("
                " sid TEXT PRIMARY KEY, state TEXT NOT NULL, token TEXT NOT NULL,"
                " expires_at REAL NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS twilio_seen_expires ON twilio_seen (expires_at)")

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we write BEGIN IMMEDIATE ourselves; timeout waits for the lock.
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def _transaction(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[int]:
        """Runs the statements in one write transaction; returns the rows each one changed."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                changed = [db.execute(sql, args).rowcount for sql, args in statements]
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return changed
        finally:
            db.close()

    def _claim(self, sid: str) -> Claim:
        now = time.time()
        token = uuid.uuid4().hex
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM twilio_seen WHERE expires_at <= ?", (now,))
                inserted = db.execute(
                    "INSERT OR IGNORE INTO twilio_seen (sid, state, token, expires_at)"
                    " VALUES (?, 'claimed', ?, ?)",
                    (sid, token, now + self.lease_seconds),
                ).rowcount
                row = None
                if not inserted:
                    row = db.execute(
                        "SELECT state FROM twilio_seen WHERE sid = ?", (sid,)
                    ).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()
        if inserted:
            return Claim(ClaimOutcome.CLAIMED, token)
        done = row is not None and row[0] == "done"
        return Claim(ClaimOutcome.DONE if done else ClaimOutcome.IN_PROGRESS)

    async def claim(self, sid: str) -> Claim:
        return await asyncio.to_thread(self._claim, sid)

    async def mark_done(self, sid: str, token: str) -> None:
        expires = time.time() + self.done_ttl_seconds
        await asyncio.to_thread(
            self._transaction,
            [
                (
                    "INSERT OR REPLACE INTO twilio_seen (sid, state, token, expires_at)"
                    " VALUES (?, 'done', ?, ?)",
                    (sid, token, expires),
                )
            ],
        )

    async def release(self, sid: str, token: str) -> None:
        await asyncio.to_thread(
            self._transaction,
            [
                (
                    "DELETE FROM twilio_seen WHERE sid = ? AND state = 'claimed' AND token = ?",
                    (sid, token),
                )
            ],
        )

    async def close(self) -> None:
        return None


# Deletes the key only while it still holds our claim token: a claim whose lease expired and
# was taken by another request must not be released by the slow first one.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisDedupStore:
    """Redis: shared by every replica. The key holds `claimed:<token>` or `done`."""

    def __init__(
        self,
        url: str,
        prefix: str = DEFAULT_REDIS_PREFIX,
        lease_seconds: float = CLAIM_LEASE_SECONDS,
        done_ttl_seconds: float = DONE_TTL_SECONDS,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.lease_seconds = lease_seconds
        self.done_ttl_seconds = done_ttl_seconds
        self._client: Any = None  # built on first use, inside the running event loop

    def _redis(self) -> Any:
        if self._client is None:
            from redis import asyncio as redis_asyncio  # only deployments with Redis need it

            self._client = redis_asyncio.Redis.from_url(self.url, decode_responses=True)
        return self._client

    def key(self, sid: str) -> str:
        return f"{self.prefix}{sid}"

    async def claim(self, sid: str) -> Claim:
        token = uuid.uuid4().hex
        client = self._redis()
        lease_ms = int(self.lease_seconds * 1000)
        if await client.set(self.key(sid), f"claimed:{token}", nx=True, px=lease_ms):
            return Claim(ClaimOutcome.CLAIMED, token)
        value = await client.get(self.key(sid))
        if value is None:  # the other claim was released or expired in between: try once more
            if await client.set(self.key(sid), f"claimed:{token}", nx=True, px=lease_ms):
                return Claim(ClaimOutcome.CLAIMED, token)
            value = await client.get(self.key(sid))
        return Claim(ClaimOutcome.DONE if value == "done" else ClaimOutcome.IN_PROGRESS)

    async def mark_done(self, sid: str, token: str) -> None:
        await self._redis().set(self.key(sid), "done", ex=int(self.done_ttl_seconds))

    async def release(self, sid: str, token: str) -> None:
        await self._redis().eval(_RELEASE_SCRIPT, 1, self.key(sid), f"claimed:{token}")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def default_sqlite_path() -> Path:
    """`$VOORDEUR_VAR_DIR/twilio_seen.sqlite3`, like the other local state of a run."""
    var_dir = Path(os.environ.get("VOORDEUR_VAR_DIR") or REPO / "var")
    return var_dir / "twilio_seen.sqlite3"


def dedup_store_from_url(url: str | None = None) -> DedupStore:
    """The store a URL names; without one, `VOORDEUR_TWILIO_DEDUP_URL`, else the SQLite file."""
    url = (url or os.environ.get(DEDUP_URL_ENV) or "").strip()
    if not url:
        return SqliteDedupStore(default_sqlite_path())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("redis", "rediss", "unix"):
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in query if k == "prefix"), DEFAULT_REDIS_PREFIX)
        rest = urlencode([(k, v) for k, v in query if k != "prefix"])
        return RedisDedupStore(urlunsplit(parts._replace(query=rest)), prefix=prefix)
    if scheme == "sqlite":
        # As SQLAlchemy writes it: sqlite:///var/x.sqlite3 (relative, here to the repository)
        # or sqlite:////srv/voordeur/x.sqlite3 (absolute).
        if not url.startswith("sqlite:///") or not url[len("sqlite:///") :]:
            raise ValueError(f"{DEDUP_URL_ENV}: a sqlite URL is sqlite:///path/to/file")
        path = Path(url[len("sqlite:///") :])
        return SqliteDedupStore(path if path.is_absolute() else REPO / path)
    if scheme == "memory":
        return MemoryDedupStore()
    raise ValueError(f"{DEDUP_URL_ENV}: unknown store {scheme!r}; use redis://, sqlite:///")
