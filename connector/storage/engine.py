"""Engine and sessions for SQLite (embedded default) and PostgreSQL (psycopg 3).

SQLite runs in WAL mode with a busy timeout and foreign keys on. A transaction that may write starts
with ``BEGIN IMMEDIATE``: it takes the write lock up front instead of failing with "database is
locked" when it upgrades a read transaction, so concurrent writers queue on the busy timeout rather
than erroring. A read-only transaction (``Database.session(write=False)``) starts with a plain
``BEGIN`` and never waits for, nor holds, the write lock: WAL readers see a snapshot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from connector.envelopes import to_json

SQLITE_BUSY_TIMEOUT_MS = 30_000
# SQLite copies its write-ahead log into the database file (a checkpoint, with an fsync) in a
# background thread this often, not inside whichever commit crosses SQLite's page threshold: that
# commit would be an ingest, and BillRun would wait for the fsync. SQLite's own checkpoint in a
# commit stays as a backstop, at a size the thread keeps the log below (a process forked after the
# thread started, as a pre-loading WSGI host does, has no thread; its log still stops growing there).
CHECKPOINT_SECONDS = 1.0
AUTOCHECKPOINT_PAGES = 10_000
_READ_ONLY = "billrun_connector_read_only"
log = logging.getLogger(__name__)

# Statements that need no ORM bookkeeping run on a session or, where its cost shows (the ingest
# path), on a plain connection.
Executor = Session | Connection


def normalize_url(database_url: str) -> URL:
    """Parse *database_url*; ``postgresql://`` and ``postgres://`` mean psycopg 3."""
    raw = database_url.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for *database_url*, configured for concurrent use by threads."""
    url = normalize_url(database_url)
    if url.get_backend_name() == "sqlite":
        in_memory = url.database in (None, "", ":memory:")
        engine = create_engine(
            url,
            json_serializer=to_json,  # the delivery body's own JSON: see connector/envelopes.py
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            poolclass=StaticPool if in_memory else None,
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=to_json, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # see CHECKPOINT_SECONDS
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class _Checkpointer:
    """A thread that checkpoints a SQLite database's write-ahead log every CHECKPOINT_SECONDS.

    ``PASSIVE``: it copies what no reader still needs and never waits for, nor blocks, a writer.
    Whatever it leaves, the next round takes; SQLite also checkpoints when the last connection closes.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(CHECKPOINT_SECONDS):
            try:
                connection = self._engine.raw_connection()
                try:
                    connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except Exception:
                log.exception("checkpointing the SQLite write-ahead log failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(CHECKPOINT_SECONDS + 5)


class Database:
    """One engine and its session factory; share one per process."""

    def __init__(self, database_url: str, **engine_kwargs: Any) -> None:
        self.url = database_url
        self.engine = make_engine(database_url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
        file_backed = self.dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:")
        self._checkpointer = _Checkpointer(self.engine) if file_backed else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception.

        With ``write=False`` the transaction only reads (on SQLite it takes no write lock); a write
        in it may fail with "database is locked".
        """
        with (self.sessions if write else self.read_sessions)() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            connection.rollback()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()
