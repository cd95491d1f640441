"""Queue statistics for the metrics endpoint and the console's overview.

Every count goes through an index range whose size is the work waiting (pending or failed
deliveries, events not yet fanned out or in quarantine), never the whole history: a scrape costs
the same with 200,000 delivered deliveries as with none. Deliveries that succeeded or were
cancelled are counted by the workers' own counters instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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


def queue_stats(session: Session, now: datetime | None = None, tenant_id: int | None = None) -> QueueStats:
    """What is waiting: deliveries pending, failed and due now (and how long the oldest due one has
    waited), events waiting for their fan-out and in quarantine; of one tenant, or of all when
    *tenant_id* is ``None``. One statement: a scrape is one round trip."""
    now = now or utcnow()
    deliveries = () if tenant_id is None else (Delivery.tenant_id == tenant_id,)
    events = () if tenant_id is None else (Event.tenant_id == tenant_id,)
    due_filter = and_(Delivery.status == PENDING, Delivery.next_attempt_at <= now, *deliveries)

    def count(*conditions: Any) -> Any:
        return select(func.count()).where(*conditions).scalar_subquery()

    oldest_due = select(Delivery.next_attempt_at).where(due_filter).order_by(Delivery.next_attempt_at).limit(1)
    row = session.execute(
        select(
            count(Delivery.status == PENDING, *deliveries).label("pending"),
            count(Delivery.status == FAILED, *deliveries).label("failed"),
            count(due_filter).label("due"),
            oldest_due.scalar_subquery().label("oldest"),
            count(WAITING, Event.fanout_state == FANOUT_PENDING, *events).label("waiting"),
            count(WAITING, Event.fanout_state == QUARANTINED, *events).label("quarantined"),
        )
    ).one()
    oldest = row.oldest
    if isinstance(oldest, str):  # SQLite hands a scalar subquery's time back as its text
        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    return QueueStats(
        pending=int(row.pending),
        failed=int(row.failed),
        due=int(row.due),
        oldest_due_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        events_waiting=int(row.waiting),
        events_quarantined=int(row.quarantined),
    )


def retrying_count(session: Session, tenant_id: int | None) -> int:
    """Pending deliveries whose last attempt failed: they wait for their next try."""
    tenant = () if tenant_id is None else (Delivery.tenant_id == tenant_id,)
    return _count(session, Delivery.status == PENDING, Delivery.attempt_count > 0, *tenant)


def events_per_type(session: Session, tenant_id: int | None, since: datetime) -> list[tuple[str, int]]:
    """How many events of each type arrived since *since*, most frequent first (an index range of
    the last day's events, not the whole history)."""
    count = func.count().label("count")
    query = select(Event.type, count).where(Event.created_at >= since).group_by(Event.type)
    if tenant_id is not None:
        query = query.where(Event.tenant_id == tenant_id)
    rows = session.execute(query.order_by(count.desc(), Event.type)).all()
    return [(str(name), int(number)) for name, number in rows]
