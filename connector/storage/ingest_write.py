"""The ingest's one transaction, run on the database driver's own connection.

BillRun waits for every ingest inside its billing operation, so this is the hottest path of the
service: check that the ingest URL is live, then insert the event. Through SQLAlchemy's Connection
the two statements and their transaction cost several times what the driver does (its transaction
bookkeeping, events and result objects), so they run on the pooled DBAPI connection instead.
Nothing is written by hand that SQLAlchemy can give: the SQL is compiled once from the table
definitions for the engine's dialect, and each value goes through its column type's own bind
processor, so a row written here is exactly what the ORM writes and reads.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.sql.compiler import Compiled

from connector.storage.engine import SQLITE_BUSY_TIMEOUT_MS
from connector.storage.events import EventRecord
from connector.storage.models import Event, IngestToken

_LIVE_TOKEN = select(IngestToken.tenant_id, IngestToken.source).where(
    IngestToken.id == bindparam("token_id"), IngestToken.revoked_at.is_(None)
)
_INSERT_EVENT = Event.__table__.insert().values({c.name: bindparam(c.name) for c in Event.__table__.columns})


class _Statement:
    """A statement compiled once for a dialect, with its parameters in the driver's form."""

    def __init__(self, statement: Any, engine: Engine, processors: dict[str, Callable[[Any], Any] | None]) -> None:
        compiled: Compiled = statement.compile(dialect=engine.dialect)
        self.sql = compiled.string
        positional: list[str] | None = list(compiled.positiontup) if compiled.positional else None  # type: ignore[attr-defined]
        self._positional = positional is not None
        names = positional if positional is not None else list(dict.fromkeys(compiled.bind_names.values()))  # type: ignore[attr-defined]
        self._steps = [(name, processors.get(name)) for name in names]

    def params(self, values: dict[str, Any]) -> Any:
        """*values* processed by their column types, as a tuple or a mapping as the driver wants them."""
        processed = [
            (name, values[name] if process is None else process(values[name])) for name, process in self._steps
        ]
        return tuple(value for _, value in processed) if self._positional else dict(processed)


# While another writer holds SQLite's lock, the ingest asks again this often. SQLite's own busy
# handler sleeps longer and longer (up to 100 ms a try), so behind a worker's stream of short
# transactions a waiting ingest could keep missing the moments the lock is free.
LOCK_POLL_SECONDS = 0.0005


def _begin_immediate(cursor: Any) -> None:
    """Take SQLite's write lock, asking every LOCK_POLL_SECONDS until the busy timeout."""
    cursor.execute("PRAGMA busy_timeout = 0")
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    try:
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(LOCK_POLL_SECONDS)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


class IngestWriter:
    """Writes one ingested event in one transaction, if its ingest URL is live."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self._sqlite = dialect.name == "sqlite"
        processors = {
            column.name: column.type.dialect_impl(dialect).bind_processor(dialect) for column in Event.__table__.columns
        }
        self._token = _Statement(_LIVE_TOKEN, engine, {})
        self._insert = _Statement(_INSERT_EVENT, engine, processors)

    def write(self, token_id: str, make: Callable[[int, str], EventRecord]) -> EventRecord | None:
        """Read the live ingest URL *token_id*, make the event for its tenant and source with *make*,
        and insert it; ``None`` (nothing written) when the URL is unknown or revoked."""
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if self._sqlite:  # the connection is in autocommit mode: take the write lock up front
                _begin_immediate(cursor)
            cursor.execute(self._token.sql, self._token.params({"token_id": token_id}))
            found = cursor.fetchone()
            if found is None:
                connection.rollback()
                return None
            event = make(found[0], found[1])
            cursor.execute(self._insert.sql, self._insert.params(event.values()))
            connection.commit()
            return event
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()  # back to the pool
