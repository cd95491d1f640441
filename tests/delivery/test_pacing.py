"""The pacer of the worker's bulk writes, the gap it leaves between its write transactions, and the
ingest's way into SQLite's write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from connector.delivery.pacing import MIN_PAUSE_SECONDS, SQLITE_TARGET_SECONDS, LockGap, Pacer
from connector.storage import ingest_write


def test_on_sqlite_batches_grow_or_shrink_towards_the_target_hold() -> None:
    pacer = Pacer.for_dialect("sqlite", 10, 500)
    assert pacer.size == 10  # start small
    for _ in range(20):  # cheap items: 0.1 ms each, so about 40 fit in the target
        pacer.done(pacer.size, pacer.size * 0.0001)
    assert abs(pacer.size - SQLITE_TARGET_SECONDS / 0.0001) <= 2
    for _ in range(20):  # the machine slows down: 1 ms an item
        pacer.done(pacer.size, pacer.size * 0.001)
    assert pacer.size == 10  # never below the minimum
    pacer.done(0, 0.0)  # an empty batch says nothing about the size
    assert 10 <= pacer.size <= 500


def test_on_postgresql_batches_are_full_and_never_wait() -> None:
    pacer = Pacer.for_dialect("postgresql", 10, 500)
    pacer.done(500, 5.0)
    assert pacer.size == 500


@pytest.mark.parametrize(("held", "gap"), [(0.03, 0.03), (0.0001, MIN_PAUSE_SECONDS)])
def test_on_sqlite_a_workers_write_transactions_leave_the_lock_free_as_long_as_they_held_it(
    held: float, gap: float
) -> None:
    lock_gap = LockGap("sqlite")
    lock_gap.wait()  # nothing held yet: no wait
    lock_gap.held(held)
    started = time.monotonic()
    lock_gap.wait()
    assert gap <= time.monotonic() - started < gap + 0.02


def test_on_postgresql_write_transactions_follow_each_other_at_once() -> None:
    lock_gap = LockGap("postgresql")
    lock_gap.held(5.0)
    started = time.monotonic()
    lock_gap.wait()
    assert time.monotonic() - started < 0.01


def test_the_ingest_gets_the_lock_once_it_is_free_and_gives_up_at_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lock.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    ingest = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.2, lambda: holder.execute("COMMIT")).start()
    cursor = ingest.cursor()
    ingest_write._begin_immediate(cursor)  # waits for the holder's commit
    assert ingest.in_transaction
    assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == ingest_write.SQLITE_BUSY_TIMEOUT_MS
    ingest.execute("COMMIT")

    monkeypatch.setattr(ingest_write, "SQLITE_BUSY_TIMEOUT_MS", 300)
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        ingest_write._begin_immediate(cursor)
    assert time.monotonic() - started >= 0.3
    assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] == 300  # restored after the refusal
    holder.execute("COMMIT")
    holder.close()
    ingest.close()
