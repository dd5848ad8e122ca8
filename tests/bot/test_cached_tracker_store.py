"""The cached SQL tracker store behaves as Rasa's SQLTrackerStore, only faster.

Each test runs the same conversation through `CachedSQLTrackerStore` and checks what Rasa's
own store would give: the same events from the database, the same events published once, the
latest session only, and other Rasa instances' writes seen at once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, bijstand_aanvragen]
slots:
  gemeente:
    type: text
    mappings: [{type: custom}]
"""
)
# Events are stamped after the conversation was created (now), as in a real conversation.
T0 = time.time() + 60


class RecordingBroker(EventBroker):
    """Keeps what would be published."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def store_at(path: Path, broker: EventBroker | None = None, **kwargs: Any) -> Any:
    return CachedSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(path), event_broker=broker, **kwargs
    )


def turn(text: str, utter: str, seconds: float) -> list[Any]:
    return [
        UserUttered(text, {"name": "greet", "confidence": 1.0}, timestamp=T0 + seconds),
        ActionExecuted("utter_greet", timestamp=T0 + seconds + 0.1),
        BotUttered(utter, timestamp=T0 + seconds + 0.2),
        ActionExecuted("action_listen", timestamp=T0 + seconds + 0.3),
    ]


async def new_conversation(store: Any, sender: str = "inwoner-1") -> Any:
    tracker = await store.get_or_create_tracker(sender)
    start = [
        SessionStarted(timestamp=T0 + 1.0),
        ActionExecuted("action_listen", timestamp=T0 + 1.1),
    ]
    for event in start:
        tracker.update(event)
    await store.save(tracker)
    return await store.retrieve(sender)


def without_time(event: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key != "timestamp"}


def event_types(tracker: Any) -> list[str]:
    return [event.type_name for event in tracker.events]


async def test_a_saved_turn_is_read_back_as_rasa_reads_it(tmp_path: Path) -> None:
    db = tmp_path / "tracker.sqlite3"
    store = store_at(db)
    tracker = await new_conversation(store)
    for event in [*turn("hallo", "Goedendag!", 2.0), SlotSet("gemeente", "Helmond", T0 + 2.4)]:
        tracker.update(event)
    await store.save(tracker)

    rasa_store = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    from_rasa = await rasa_store.retrieve("inwoner-1")
    again = await store.retrieve("inwoner-1")
    assert again is tracker  # kept: not rebuilt from the database
    assert [e.as_dict() for e in from_rasa.events] == [e.as_dict() for e in again.events]
    assert from_rasa.get_slot("gemeente") == "Helmond"


async def test_a_new_conversation_is_stored_without_rasas_reload_and_reads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "tracker.sqlite3"
    store = store_at(db)
    reloads: list[str] = []
    original = SQLTrackerStore.save

    async def counting_save(self: Any, tracker: Any) -> None:
        reloads.append(tracker.sender_id)
        await original(self, tracker)

    monkeypatch.setattr(SQLTrackerStore, "save", counting_save)
    tracker = await new_conversation(store)  # created (saved), session started (saved)
    for event in turn("hallo", "Goedendag!", 2.0):
        tracker.update(event)
    await store.save(tracker)
    assert reloads == []  # every save knew which events were new

    rasa_store = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    from_rasa = await rasa_store.retrieve("inwoner-1")
    assert [e.as_dict() for e in from_rasa.events] == [e.as_dict() for e in tracker.events]
    assert await store.retrieve("inwoner-1") is tracker


async def test_another_instance_writing_is_seen_at_once(tmp_path: Path) -> None:
    db = tmp_path / "tracker.sqlite3"
    here, there = store_at(db), store_at(db)
    await new_conversation(here)
    other = await there.retrieve("inwoner-1")
    for event in turn("bijstand", "Ik help u.", 3.0):
        other.update(event)
    await there.save(other)

    seen = await here.retrieve("inwoner-1")
    assert event_types(seen) == event_types(other)
    assert seen.latest_message.text == "bijstand"


async def test_a_turn_that_failed_before_saving_is_not_kept(tmp_path: Path) -> None:
    store = store_at(tmp_path / "tracker.sqlite3")
    tracker = await new_conversation(store)
    stored = event_types(tracker)
    tracker.update(UserUttered("half", {"name": "greet", "confidence": 1.0}, timestamp=T0 + 5))

    again = await store.retrieve("inwoner-1")
    assert again is not tracker
    assert event_types(again) == stored


async def test_events_are_published_once_as_rasa_publishes_them(tmp_path: Path) -> None:
    ours, rasas = RecordingBroker(), RecordingBroker()
    store = store_at(tmp_path / "ours.sqlite3", ours)
    rasa_store = SQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.sqlite3"), event_broker=rasas
    )
    for each in (store, rasa_store):
        tracker = await new_conversation(each)
        for seconds in (2.0, 3.0):
            for event in turn("hallo", "Goedendag!", seconds):
                tracker.update(event)
            await each.save(tracker)
            tracker = await each.retrieve("inwoner-1")
    # The first action_listen is stamped when each store created the conversation.
    assert [without_time(e) for e in ours.published] == [without_time(e) for e in rasas.published]
    assert len(ours.published) == 3 + 8  # creation, session start, two turns


async def test_a_new_session_leaves_the_old_one_behind(tmp_path: Path) -> None:
    store = store_at(tmp_path / "tracker.sqlite3")
    tracker = await new_conversation(store)
    for event in turn("hallo", "Goedendag!", 2.0):
        tracker.update(event)
    await store.save(tracker)
    tracker = await store.retrieve("inwoner-1")
    tracker.update(SessionStarted(timestamp=T0 + 10_000.0))
    tracker.update(ActionExecuted("action_listen", timestamp=T0 + 10_000.1))
    await store.save(tracker)

    latest = await store.retrieve("inwoner-1")
    assert event_types(latest) == ["session_started", "action"]
    full = await store.retrieve_full_tracker("inwoner-1")
    assert len(full.events) == 3 + 4 + 2


async def test_only_the_most_recent_conversations_are_kept(tmp_path: Path) -> None:
    store = store_at(tmp_path / "tracker.sqlite3", cache_size=2)
    for sender in ("a", "b", "c"):
        await new_conversation(store, sender)
    assert list(store._kept) == ["b", "c"]
    again = await store.retrieve("a")  # evicted: loaded from the database again
    assert event_types(again) == ["session_started", "action"]


@pytest.mark.parametrize("cache_size", [0, 5])
async def test_nothing_is_lost_whatever_the_cache_size(tmp_path: Path, cache_size: int) -> None:
    store = store_at(tmp_path / "tracker.sqlite3", cache_size=cache_size)
    tracker = await new_conversation(store)
    for seconds in (2.0, 3.0, 4.0):
        for event in turn(f"bericht {seconds}", "Ok.", seconds):
            tracker.update(event)
        await store.save(tracker)
        tracker = await store.retrieve("inwoner-1")
    texts = [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert texts == ["bericht 2.0", "bericht 3.0", "bericht 4.0"]


def test_the_local_database_is_pooled_and_in_wal_mode(tmp_path: Path) -> None:
    store = store_at(tmp_path / "tracker.sqlite3")
    with store.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    assert store.engine.pool.__class__.__name__ == "QueuePool"
