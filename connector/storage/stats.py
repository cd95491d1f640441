"""Queue statistics for the metrics endpoint.

Every count goes through an index range whose size is the work waiting (pending or failed
deliveries, events not yet fanned out or in quarantine), never the whole history: a scrape costs
the same with 200,000 delivered deliveries as with none. Deliveries that succeeded or were
cancelled are counted by the workers' own counters instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from connector.storage.deliveries import FAILED, PENDING
from connector.storage.events import FANOUT_PENDING, QUARANTINED, WAITING
from connector.storage.models import Delivery, Event, utcnow


@dataclass(frozen=True)
class QueueStats:
    pending: int
    failed: int
    due: int
    oldest_due_age_seconds: float
    events_waiting: int  # stored, not yet fanned out into deliveries
    events_quarantined: int


def _count(session: Session, *conditions: object) -> int:
    return int(session.scalar(select(func.count()).where(*conditions)) or 0)  # type: ignore[arg-type]


def queue_stats(session: Session, now: datetime | None = None) -> QueueStats:
    """What is waiting: deliveries pending, failed and due now (and how long the oldest due one has
    waited), events waiting for their fan-out and in quarantine."""
    now = now or utcnow()
    due_filter = and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
    oldest = session.scalar(
        select(Delivery.next_attempt_at).where(due_filter).order_by(Delivery.next_attempt_at).limit(1)
    )
    return QueueStats(
        pending=_count(session, Delivery.status == PENDING),
        failed=_count(session, Delivery.status == FAILED),
        due=_count(session, due_filter),
        oldest_due_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        events_waiting=_count(session, WAITING, Event.fanout_state == FANOUT_PENDING),
        events_quarantined=_count(session, WAITING, Event.fanout_state == QUARANTINED),
    )
