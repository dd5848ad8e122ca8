"""The SQL tracker store, without reloading the whole conversation twice per message.

Rasa's SQLTrackerStore rebuilds a conversation from all its stored events on every message,
and, with an event broker, once more on every save (to find the new events to publish), then
counts the stored events a third time. Profiling the Rasa server under load put that work
(queries, JSON decoding, replaying events into a tracker) at about a third of its CPU time,
growing with the length of the conversation.

`CachedSQLTrackerStore` keeps the trackers of recent conversations in this process. The
database stays the truth: every retrieve asks it for the conversation's highest event id, one
indexed query, and uses the kept tracker only when nothing was stored since (by this process
or another Rasa instance sharing the database) and the tracker was not changed without being
saved (a message that failed halfway). Otherwise it loads as Rasa does. A save writes and
publishes only the events after the ones known to be stored.

Configured in bot/endpoints*.yml as `type: bot.tracker_store.CachedSQLTrackerStore`, with the
SQLTrackerStore's own keys plus `cache_size` (conversations kept, default 1000).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import rasa_speedups

logger = logging.getLogger(__name__)

rasa_speedups.install()  # Rasa loads this module for every server

DEFAULT_CACHE_SIZE = 1000

__all__ = ["CachedSQLTrackerStore"]


def engine_for(url: Any) -> sa.engine.Engine:
    """The engine Rasa would make, with two changes.

    PostgreSQL: a restarted server leaves dead connections in the pool; each is tested before
    use (`pool_pre_ping`), so the first message after the restart is answered, not lost.
    SQLite (the local profile): SQLAlchemy 1.4 opens the file anew for every query (NullPool)
    and waits for the disk on every commit. Connections are pooled instead, and the database
    is in WAL mode with `synchronous=NORMAL`: still consistent after a crash of the process,
    a commit no longer waits for the disk.
    """
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
    engine = sa.create_engine(
        url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False}
    )

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


@dataclass
class _Kept:
    """A conversation's tracker as this process last loaded or saved it."""

    tracker: DialogueStateTracker
    stored: int  # how many of tracker.events are in the database
    last_id: int  # the conversation's highest event id in the database at that moment


class CachedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that keeps recent trackers in memory, checked against the database."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = engine_for(url)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.cache_size = int(cache_size)
        self._kept: OrderedDict[str, _Kept] = OrderedDict()
        events = self.SQLEvent.__table__
        self._last_id_query = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )
        self._insert = events.insert()

    # --- reading ------------------------------------------------------------------------------

    def _last_event_id(self, connection: Any, sender_id: str) -> int | None:
        """The conversation's highest event id: one indexed query. The statement is built
        once: SQLAlchemy computes a new statement's cache key on every execution (5 % of the
        Rasa process when profiled), a reused one's only once."""
        return connection.execute(self._last_id_query, {"sender_id": sender_id}).scalar()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's latest session: the kept tracker when it is current."""
        with self.engine.connect() as connection:
            last_id = self._last_event_id(connection, sender_id)
        kept = self._kept.get(sender_id)
        if kept is not None and last_id == kept.last_id and len(kept.tracker.events) == kept.stored:
            self._kept.move_to_end(sender_id)
            return kept.tracker
        self._kept.pop(sender_id, None)
        if last_id is None:
            return None
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows or self.domain is None:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots
        )
        self._keep(sender_id, _Kept(tracker, len(tracker.events), max(row.id for row in rows)))
        return tracker

    def _keep(self, sender_id: str, kept: _Kept) -> None:
        self._kept[sender_id] = kept
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)

    # --- writing ------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores (and publishes) the events after the ones already stored.

        Known stored: a tracker this store handed out or saved before (kept), or a conversation
        with nothing stored yet (Rasa saves a new conversation at once when it creates it).
        Otherwise Rasa's own way, which finds the new events by reloading and counting.
        """
        sender_id = tracker.sender_id
        kept = self._kept.pop(sender_id, None)
        with self.engine.begin() as connection:
            last_id = self._last_event_id(connection, sender_id)
            if kept is not None and kept.tracker is tracker and last_id == kept.last_id:
                stored = kept.stored
            elif kept is None and last_id is None:
                stored = 0
            else:
                stored = -1  # another instance stored meanwhile, or a tracker not from here
            if stored >= 0:
                new_events = list(itertools.islice(tracker.events, stored, None))
                if self.event_broker is not None:
                    await self._stream_new_events(self.event_broker, new_events, sender_id)
                if new_events:
                    connection.execute(
                        self._insert,
                        [self._row(sender_id, event) for event in new_events],
                    )
                    last_id = self._last_event_id(connection, sender_id)
        if stored < 0:
            await super().save(tracker)
            return
        if last_id is not None and not any(isinstance(e, SessionStarted) for e in new_events):
            # What the next retrieve would load (the latest session), so keep it; after a
            # new session starts, the next retrieve loads that session from the database.
            self._keep(sender_id, _Kept(tracker, len(tracker.events), last_id))
        logger.debug("Stored %d new events of a conversation", len(new_events))

    def _row(self, sender_id: str, event: Event) -> dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
