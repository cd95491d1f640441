"""Pacing the worker's bulk writes so that an ingest never waits long for SQLite's write lock.

SQLite has one writer at a time. The fan-out of an event to thousands of subscribers and the purge
of old events are bulk writes; done in large transactions, back to back, they would keep every
ingest (which BillRun waits for) queued behind them. A pacer sizes each batch from how long the
previous ones took, so that a batch holds the lock for about ``target`` seconds. A worker's
``LockGap`` then leaves the lock free after each of its write transactions, bulk or not, as long as
it held it: SQLite's lock is not fair, and a worker writing back to back (recording, claiming,
fanning out) kept a waiting ingest out for tens of milliseconds. On PostgreSQL, where writers lock
rows, not the database, batches are as large as allowed and nothing pauses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# A bulk write holds SQLite's write lock for about this long, then leaves it free at least as long.
SQLITE_TARGET_SECONDS = 0.004
MIN_PAUSE_SECONDS = 0.002


class Pacer:
    """Batch sizes between *minimum* and *maximum* that aim at *target* seconds per batch."""

    def __init__(self, minimum: int, maximum: int, target: float | None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.target = target
        self._size = maximum if target is None else minimum

    @classmethod
    def for_dialect(cls, dialect: str, minimum: int, maximum: int) -> Pacer:
        return cls(minimum, maximum, SQLITE_TARGET_SECONDS if dialect == "sqlite" else None)

    @property
    def size(self) -> int:
        """How many items the next batch may take."""
        return self._size

    def done(self, items: int, seconds: float) -> None:
        """A batch of *items* took *seconds*: size the next one."""
        if self.target is None or items <= 0:
            return
        ideal = self.target * items / max(seconds, 1e-6)
        # Move half-way towards the size that would have taken the target time: steady, not jumpy.
        self._size = max(self.minimum, min(self.maximum, int((self._size + ideal) / 2)))


class LockGap:
    """On SQLite, keeps one process's write transactions apart: after one that held the write lock
    for *t* seconds, the next waits until the lock was free for max(t, MIN_PAUSE_SECONDS)."""

    def __init__(self, dialect: str) -> None:
        self.enabled = dialect == "sqlite"
        self._free_until = 0.0

    def wait(self) -> None:
        """Before a write transaction: sleep out what is left of the gap."""
        if self.enabled and (left := self._free_until - time.monotonic()) > 0:
            time.sleep(left)

    def held(self, seconds: float) -> None:
        """A write transaction that held the lock *seconds* just ended."""
        if self.enabled:
            self._free_until = time.monotonic() + max(MIN_PAUSE_SECONDS, seconds)

    @contextmanager
    def around(self) -> Iterator[None]:
        """Around a whole write transaction: the gap first; the time it took sets the next gap."""
        self.wait()
        started = time.monotonic()
        try:
            yield
        finally:
            self.held(time.monotonic() - started)
