"""Pacing the worker's bulk writes so that an ingest never waits long for SQLite's write lock.

SQLite has one writer at a time. The fan-out of an event to thousands of subscribers and the purge
of old events are bulk writes; done in large transactions, back to back, they would keep every
ingest (which BillRun waits for) queued behind them. A pacer sizes each batch from how long the
previous ones took, so that a batch holds the lock for about ``target`` seconds, and says how long
to leave the lock free before the next one. On PostgreSQL, where writers lock rows, not the
database, batches are as large as allowed and nothing pauses.
"""

from __future__ import annotations

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
        self._last = 0.0

    @classmethod
    def for_dialect(cls, dialect: str, minimum: int, maximum: int) -> Pacer:
        return cls(minimum, maximum, SQLITE_TARGET_SECONDS if dialect == "sqlite" else None)

    @property
    def size(self) -> int:
        """How many items the next batch may take."""
        return self._size

    def done(self, items: int, seconds: float) -> None:
        """A batch of *items* took *seconds*: size the next one."""
        self._last = seconds
        if self.target is None or items <= 0:
            return
        ideal = self.target * items / max(seconds, 1e-6)
        # Move half-way towards the size that would have taken the target time: steady, not jumpy.
        self._size = max(self.minimum, min(self.maximum, int((self._size + ideal) / 2)))

    @property
    def pause(self) -> float:
        """How long to leave the write lock free before the next batch."""
        if self.target is None:
            return 0.0
        return max(MIN_PAUSE_SECONDS, self._last)
