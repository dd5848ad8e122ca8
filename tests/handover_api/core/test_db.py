"""SQLite as the API uses it: writers that queue instead of polling SQLite's busy handler.

Two engines on one file stand in for two processes (API workers, the notification worker):
each pooled connection opens the lock file itself, so the exclusion is the same.
"""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, text

from handover_api.core.db import lock_file_of, make_engine


def _table(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER NOT NULL)"))


def test_a_sqlite_file_has_foreign_keys_and_one_pooled_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    assert engine.pool.size() == 1
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _lock_file_is_free(database: Path) -> bool:
    with open(lock_file_of(database), "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


def test_the_lock_file_is_held_exactly_while_a_connection_is_in_use(tmp_path: Path) -> None:
    database = tmp_path / "api.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    _table(engine)
    assert _lock_file_is_free(database)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert not _lock_file_is_free(database)
    assert _lock_file_is_free(database)  # returned to the pool: free for the next writer
    engine.dispose()


def test_a_second_engine_waits_for_the_first_and_goes_on_when_it_is_done(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    first, second = make_engine(url), make_engine(url)
    _table(first)
    holding = threading.Event()
    released_at: list[float] = []

    def hold() -> None:
        with first.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            holding.set()
            time.sleep(0.4)
            released_at.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    with second.begin() as conn:  # queues on the lock file while `first` holds it
        got_it_at = time.monotonic()
        conn.execute(text("INSERT INTO t VALUES (2)"))
    holder.join()
    assert released_at and got_it_at >= released_at[0]
    # Woken by the release, not by a later poll of SQLite's busy handler.
    assert got_it_at - released_at[0] < 0.2
    with second.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    first.dispose()
    second.dispose()


def test_many_concurrent_writers_on_two_engines_all_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    engines = [make_engine(url), make_engine(url)]
    _table(engines[0])
    errors: list[BaseException] = []

    def write(engine: Engine, start: int) -> None:
        try:
            for n in range(start, start + 25):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(engines[i % 2], i * 100)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engines[1].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 200
    for engine in engines:
        engine.dispose()


def test_a_memory_database_keeps_working_without_a_lock_file(tmp_path: Path) -> None:
    engine = make_engine("sqlite://")
    _table(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    assert list(tmp_path.iterdir()) == []
    engine.dispose()
