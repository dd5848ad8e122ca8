"""Database engine and session factory.

SQLite gets foreign keys switched on and the pysqlite transaction fix (``BEGIN IMMEDIATE``
emitted by SQLAlchemy: SAVEPOINTs work and writers queue instead of failing with "database is
locked"); the directory of a SQLite file is created on first use.

A SQLite file also gets one pooled connection per process (``pool_size=1``) and a lock file
(``<file>.lock``) held while a connection is in use. Every transaction takes SQLite's write
lock anyway, so writers queue on the pool and on the lock file, and the next one wakes the
moment the previous one is done. Queued on SQLite's busy handler instead, they slept between
tries (up to 100 ms each) while the database was free: with 100,000 handovers and 16
concurrent creates on 2 API workers, p99 2.7 s and the slowest create 4.7 s; queued, 0.3-0.4 s
and 0.3-0.5 s, and staff lists under that load no longer take up to 10 s
(tests/bench/api_latency.py). A session returns its connection when its transaction ends, so
this serialises transactions, not requests. (Write-ahead logging was measured too and
changed nothing here: every transaction writes, and the time goes to Python, not the disk.)
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine for ``url``; SQLite gets foreign keys and correct transactions."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One connection: see the module docstring (a memory database keeps its own pool).
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 30)
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", 15)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        if path is not None:
            _queue_writers_on_lock_file(engine, path)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy control transactions (pysqlite's own handling breaks SAVEPOINT).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def lock_file_of(database: Path) -> Path:
    """The file whose lock orders the writers of SQLite file ``database``."""
    return database.with_name(database.name + ".lock")


def _queue_writers_on_lock_file(engine: Engine, database: Path) -> None:
    """Hold an exclusive lock on ``<database>.lock`` while a connection is checked out.

    Processes sharing the file (API workers, the notification worker, the CLI) then queue in
    the kernel and the next one wakes the moment the lock is released, instead of polling in
    SQLite's busy handler (sleeps of up to 100 ms while the database is already free). SQLite's
    own locking still guarantees correctness; this lock only orders the waiting. Each pooled
    connection opens the file itself, so the lock also excludes threads of one process.
    """
    lock_path = lock_file_of(database)

    @event.listens_for(engine, "checkout")
    def _lock(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        handle = record.info.get("write_lock")
        if handle is None:
            handle = record.info["write_lock"] = open(lock_path, "a+b")  # noqa: SIM115
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    @event.listens_for(engine, "checkin")
    def _unlock(_dbapi_connection: Any, record: Any) -> None:
        handle = record.info.get("write_lock")
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @event.listens_for(engine, "close")
    def _close(_dbapi_connection: Any, record: Any) -> None:
        handle = record.info.pop("write_lock", None)
        if handle is not None:
            handle.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


class Database:
    """Lazily created engine + session factory for one URL (importing the app connects nothing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._session_factory: sessionmaker[Session] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        if self._session_factory is None:
            self._session_factory = make_session_factory(self.engine)
        return self._session_factory

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
