"""Queue statistics for the metrics endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from connector.storage.deliveries import DELIVERY_STATUSES, PENDING
from connector.storage.models import Delivery, utcnow


@dataclass(frozen=True)
class QueueStats:
    by_status: dict[str, int]
    due: int
    oldest_due_age_seconds: float


def queue_stats(session: Session, now: datetime | None = None) -> QueueStats:
    """Counts by status, how many pending deliveries are due, and how long the oldest has waited."""
    now = now or utcnow()
    by_status = {status: 0 for status in DELIVERY_STATUSES}
    for status, count in session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)):
        by_status[status] = int(count)
    due_filter = and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
    due = int(session.scalar(select(func.count()).select_from(Delivery).where(due_filter)) or 0)
    oldest = session.scalar(
        select(Delivery.next_attempt_at).where(due_filter).order_by(Delivery.next_attempt_at).limit(1)
    )
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return QueueStats(by_status, due, age)
