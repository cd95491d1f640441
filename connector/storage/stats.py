"""Counts over the queue and the event log: the metrics endpoint and the console's overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from connector.storage.deliveries import DELIVERY_STATUSES, PENDING
from connector.storage.models import Delivery, Event, utcnow


@dataclass(frozen=True)
class QueueStats:
    by_status: dict[str, int]
    due: int
    oldest_due_age_seconds: float


def _in_tenant(condition: Any, tenant_id: int | None) -> Any:
    return condition if tenant_id is None else and_(condition, Delivery.tenant_id == tenant_id)


def queue_stats(session: Session, now: datetime | None = None, tenant_id: int | None = None) -> QueueStats:
    """Counts by status, how many pending deliveries are due and how long the oldest has waited; of one
    tenant, or of all when *tenant_id* is ``None``."""
    now = now or utcnow()
    by_status = {status: 0 for status in DELIVERY_STATUSES}
    counts = select(Delivery.status, func.count()).group_by(Delivery.status)
    if tenant_id is not None:
        counts = counts.where(Delivery.tenant_id == tenant_id)
    for status, count in session.execute(counts):
        by_status[status] = int(count)
    due_filter = _in_tenant(and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now), tenant_id)
    due = int(session.scalar(select(func.count()).select_from(Delivery).where(due_filter)) or 0)
    oldest = session.scalar(
        select(Delivery.next_attempt_at).where(due_filter).order_by(Delivery.next_attempt_at).limit(1)
    )
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return QueueStats(by_status, due, age)


def retrying_count(session: Session, tenant_id: int | None) -> int:
    """Pending deliveries whose last attempt failed: they wait for their next try."""
    retrying = _in_tenant(and_(Delivery.status == PENDING, Delivery.attempt_count > 0), tenant_id)
    return int(session.scalar(select(func.count()).select_from(Delivery).where(retrying)) or 0)


def events_per_type(session: Session, tenant_id: int | None, since: datetime) -> list[tuple[str, int]]:
    """How many events of each type arrived since *since*, most frequent first."""
    count = func.count().label("count")
    query = select(Event.type, count).where(Event.created_at >= since).group_by(Event.type)
    if tenant_id is not None:
        query = query.where(Event.tenant_id == tenant_id)
    rows = session.execute(query.order_by(count.desc(), Event.type)).all()
    return [(str(name), int(number)) for name, number in rows]
