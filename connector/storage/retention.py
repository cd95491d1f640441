"""Retention: deleting old events once they are fanned out and none of their deliveries is pending.

The purge walks old events in creation order, a small batch per transaction, so each batch holds
SQLite's write lock for milliseconds and the caller can yield between batches: two statements per
batch, a read of the next events and one delete. The pending check goes through the ``event_id``
index of ``deliveries``: with a large backlog, the status index would have the database walk every
pending delivery for each old event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Delete, Select, delete, select
from sqlalchemy.orm import Session

from connector.storage.deliveries import PENDING
from connector.storage.events import FANOUT_DONE
from connector.storage.models import Delivery, Event
from connector.storage.subscriptions import Cursor

BATCH = 200


@dataclass(frozen=True)
class Purged:
    """What one batch looked at and deleted, and where the next batch starts (``None``: no older
    event is left)."""

    examined: int
    deleted: int
    after: Cursor | None


def purge_statement(event_ids: list[str]) -> Delete:
    """Delete those of *event_ids* that have no pending delivery; their deliveries and attempts go
    with them by the foreign keys' cascade, in the one statement.

    The pending check is looked up by event id; ``status || ''`` keeps the planner off the
    ``(status, next_attempt_at)`` index.
    """
    still_pending = (
        select(Delivery.id).where(Delivery.event_id == Event.id, Delivery.status.op("||")("") == PENDING).exists()
    )
    return delete(Event).where(Event.id.in_(event_ids), ~still_pending)


def next_events(older_than: datetime, after: Cursor | None, batch: int) -> Select[Any]:
    """The next *batch* events created before *older_than*, after the *after* position, oldest first.

    The position is a row value (see :class:`Cursor`): spelled out with OR, the read walked from the
    cutoff's side, about 2.5 ms per batch on 12,000 old events against 0.15 ms.
    """
    query = select(Event.id, Event.created_at, Event.fanout_state).where(Event.created_at < older_than)
    if after is not None:
        query = query.where(after.rows_after(Event.created_at, Event.id))
    return query.order_by(Event.created_at, Event.id).limit(batch)


def purge_batch(session: Session, older_than: datetime, after: Cursor | None = None, batch: int = BATCH) -> Purged:
    """Delete the events among the next *batch* created before *older_than* (after the *after*
    position) that have no pending delivery; their deliveries and attempts go with them."""
    rows = session.execute(next_events(older_than, after, batch)).all()
    if not rows:
        return Purged(0, 0, None)
    # An event still waiting for its fan-out, or in quarantine, is kept whatever its age.
    candidates = [row.id for row in rows if row.fanout_state == FANOUT_DONE]
    deleted = session.execute(purge_statement(candidates)).rowcount if candidates else 0
    return Purged(len(rows), deleted, Cursor(rows[-1].created_at, rows[-1].id))
