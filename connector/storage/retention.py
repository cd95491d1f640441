"""Retention: deleting old events once they are fanned out and none of their deliveries is pending.

The purge walks old events in creation order, a small batch per transaction, so each batch holds
SQLite's write lock for milliseconds and the caller can yield between batches. The pending check
goes through the ``event_id`` index of ``deliveries``: with a large backlog, the status index would
have the database walk every pending delivery for each old event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, delete, or_, select
from sqlalchemy.orm import Session

from connector.storage.deliveries import PENDING
from connector.storage.events import FANOUT_DONE
from connector.storage.models import Delivery, DeliveryAttempt, Event

BATCH = 200


@dataclass(frozen=True)
class Purged:
    """What one batch looked at and deleted, and where the next batch starts (``None``: no older
    event is left)."""

    examined: int
    deleted: int
    after: tuple[datetime, str] | None


def pending_check(event_ids: list[str]) -> Select[tuple[str]]:
    """Which of *event_ids* still have a pending delivery, looked up by event id.

    ``status || ''`` keeps the planner off the ``(status, next_attempt_at)`` index.
    """
    return (
        select(Delivery.event_id)
        .where(Delivery.event_id.in_(event_ids), Delivery.status.op("||")("") == PENDING)
        .distinct()
    )


def purge_batch(
    session: Session, older_than: datetime, after: tuple[datetime, str] | None = None, batch: int = BATCH
) -> Purged:
    """Delete the events among the next *batch* created before *older_than* (after the *after*
    position) that have no pending delivery; their deliveries and attempts go with them."""
    query = select(Event.id, Event.created_at, Event.fanout_state).where(Event.created_at < older_than)
    if after is not None:
        query = query.where(or_(Event.created_at > after[0], and_(Event.created_at == after[0], Event.id > after[1])))
    rows = session.execute(query.order_by(Event.created_at, Event.id).limit(batch)).all()
    if not rows:
        return Purged(0, 0, None)
    # An event still waiting for its fan-out, or in quarantine, is kept whatever its age.
    candidates = [row.id for row in rows if row.fanout_state == FANOUT_DONE]
    pending = set(session.scalars(pending_check(candidates))) if candidates else set()
    victims = [event_id for event_id in candidates if event_id not in pending]
    if victims:
        doomed = select(Delivery.id).where(Delivery.event_id.in_(victims))
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(doomed)))
        session.execute(delete(Delivery).where(Delivery.event_id.in_(victims)))
        session.execute(delete(Event).where(Event.id.in_(victims)))
    return Purged(len(rows), len(victims), (rows[-1].created_at, rows[-1].id))
