"""Deliveries: their statuses, manual retry and recover, and reading the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from connector.storage.engine import Executor
from connector.storage.models import Delivery, DeliveryAttempt, Event, utcnow
from connector.storage.subscriptions import Cursor
from connector.storage.tenants import get_in_scope

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED, CANCELLED)

_D = Delivery.__table__


def finish(session: Executor, condition: Any, status: str, now: datetime, error: str) -> int:
    """End the deliveries matching *condition* with *status* and *error*; returns how many."""
    result = session.execute(
        update(_D)
        .where(condition)
        .values(
            status=status,
            last_error=error,
            completed_at=now,
            updated_at=now,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def requeue(session: Executor, delivery_id: str, now: datetime | None = None) -> bool:
    """Make one delivery due now (a manual retry); its attempt history stays.

    Returns False, changing nothing, while an attempt is in flight (a worker holds a live lease):
    clearing that lease would let a second worker send the same delivery at the same time.
    """
    now = now or utcnow()
    result = session.execute(
        update(_D)
        .where(_D.c.id == delivery_id, or_(_D.c.lease_owner.is_(None), _D.c.lease_expires_at < now))
        .values(
            status=PENDING,
            next_attempt_at=now,
            completed_at=None,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def recover(session: Session, subscription_id: str, since: datetime, now: datetime | None = None) -> int:
    """Re-queue every failed delivery of a subscription created at or after *since*; returns how many."""
    now = now or utcnow()
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.subscription_id == subscription_id,
            Delivery.status == FAILED,
            Delivery.created_at >= since,
        )
        .values(status=PENDING, next_attempt_at=now, completed_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get_delivery(session: Session, delivery_id: str, tenant_id: int | None) -> Delivery | None:
    return get_in_scope(session, Delivery, delivery_id, tenant_id)


def list_deliveries(
    session: Session, subscription_id: str | None = None, **filters: Any
) -> list[tuple[Delivery, Event]]:
    """Deliveries with their events, newest first; *filters* as :func:`list_deliveries_query` takes them."""
    return [(row[0], row[1]) for row in session.execute(list_deliveries_query(subscription_id, **filters)).all()]


def list_deliveries_query(
    subscription_id: str | None = None,
    *,
    tenant_id: int | None = None,
    status: str | None = None,
    event_type: str | None = None,
    limit: int = 50,
    before: Cursor | None = None,
) -> Select[tuple[Delivery, Event]]:
    """Deliveries with their events, newest first, starting after the *before* cursor.

    Each filter given narrows the log: one subscription, one tenant, one status, one event type.
    """
    query = (
        select(Delivery, Event)
        .join(Event, Event.id == Delivery.event_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if tenant_id is not None:
        # With a subscription, its own index finds its rows: ``+ 0`` keeps SQLite off the tenant's,
        # which it prefers without statistics and which would walk all the tenant's deliveries.
        tenant = Delivery.tenant_id + 0 if subscription_id is not None else Delivery.tenant_id
        query = query.where(tenant == tenant_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if event_type is not None:
        query = query.where(Event.type == event_type)
    if before is not None:
        query = query.where(before.rows_before(Delivery.created_at, Delivery.id))
    return query


def deliveries_of_event(session: Session, event_id: str) -> Sequence[Delivery]:
    """Every delivery of one event, oldest first."""
    return session.scalars(
        select(Delivery).where(Delivery.event_id == event_id).order_by(Delivery.created_at, Delivery.id)
    ).all()


def attempts_of(session: Session, delivery_id: str) -> Sequence[DeliveryAttempt]:
    return session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
    ).all()
