"""The ingest's one statement, run on the database driver's own connection.

BillRun waits for every ingest inside its billing operation, so this is the hottest path of the
service. One ``INSERT ... SELECT`` from the ingest URL's row writes the event only if the URL is
live, with the URL's tenant and source, and returns them. On PostgreSQL it runs on its own, in
autocommit: one round trip where a transaction took four (BEGIN, read the URL, insert, COMMIT).
On SQLite it runs between ``BEGIN IMMEDIATE`` and COMMIT, so that the ingest can ask for the write
lock its own way (see LOCK_POLL_SECONDS). Through SQLAlchemy's Connection a statement and its
transaction cost several times what the driver does (its transaction bookkeeping, events and
result objects), so it runs on the pooled DBAPI connection instead.
Nothing is written by hand that SQLAlchemy can give: the SQL is compiled once from the table
definitions for the engine's dialect, and each value goes through its column type's own bind
processor, so a row written here is exactly what the ORM writes and reads.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, bindparam, case, literal_column, select
from sqlalchemy.sql.compiler import Compiled

from connector.storage.engine import SQLITE_BUSY_TIMEOUT_MS
from connector.storage.events import EventRecord
from connector.storage.models import Event, IngestToken

_T = IngestToken.__table__
_E = Event.__table__
# Columns the ingest URL's row gives: its tenant, and its source unless it has none.
_FROM_TOKEN = {
    "tenant_id": _T.c.tenant_id,
    "source": case(
        (_T.c.source == literal_column("''"), bindparam("source", type_=_E.c.source.type)), else_=_T.c.source
    ),
}
_INGEST = (
    _E.insert()
    .from_select(
        [column.name for column in _E.columns],
        select(
            *(_FROM_TOKEN.get(column.name, bindparam(column.name, type_=column.type)) for column in _E.columns)
        ).where(_T.c.id == bindparam("token_id"), _T.c.revoked_at.is_(None)),
    )
    .returning(_E.c.tenant_id, _E.c.source)
)


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
    """Writes one ingested event in one statement, if its ingest URL is live."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self._sqlite = dialect.name == "sqlite"
        processors = {column.name: column.type.dialect_impl(dialect).bind_processor(dialect) for column in _E.columns}
        self._insert = _Statement(_INGEST, engine, processors)

    def write(self, token_id: str, event: dict[str, Any]) -> EventRecord | None:
        """Insert *event* (every column but ``tenant_id``: see :func:`unfiled_event`) for the tenant of
        the live ingest URL *token_id*, with the URL's source if it has one; the event as written, or
        ``None`` (nothing written) when the URL is unknown or revoked."""
        connection = self.engine.raw_connection()
        driver = connection.dbapi_connection
        try:
            cursor = connection.cursor()
            if self._sqlite:  # the driver is in autocommit mode: take the write lock up front
                _begin_immediate(cursor)
            else:
                driver.autocommit = True  # the statement is its own transaction
            cursor.execute(self._insert.sql, self._insert.params({**event, "token_id": token_id}))
            filed = cursor.fetchall()
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if not self._sqlite:
                driver.autocommit = False
            connection.close()  # back to the pool
        if not filed:
            return None
        tenant_id, source = filed[0]
        return EventRecord(**{**event, "tenant_id": tenant_id, "source": source})
