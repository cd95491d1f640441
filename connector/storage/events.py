"""Events: writing one with its deliveries (the outbox), idempotent repeats, reading samples.

An event and one delivery per matching active subscription are written in one transaction, so
what the ingest acknowledged is never without its deliveries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import ids
from connector.storage.deliveries import PENDING
from connector.storage.engine import Executor
from connector.storage.models import Delivery, Event, Subscription, SubscriptionEvent, utcnow
from connector.storage.subscriptions import ACTIVE, Cursor
from connector.storage.tenants import get_in_scope


@dataclass(frozen=True)
class StoredEvent:
    """An event as written (or found, for an idempotent repeat) with its delivery count."""

    event: Event
    deliveries: int
    created: bool


# Statements of the ingest path, built once (Core inserts: no ORM unit of work per request).
_INSERT_EVENT = Event.__table__.insert()
_INSERT_DELIVERY = Delivery.__table__.insert()
_MATCHING = (
    select(Subscription.id)
    .where(
        Subscription.id.in_(
            select(SubscriptionEvent.subscription_id).where(
                SubscriptionEvent.tenant_id == bindparam("tenant_id"),
                SubscriptionEvent.event_type.in_(bindparam("keys", expanding=True)),
            )
        ),
        Subscription.status == ACTIVE,
    )
    .order_by(Subscription.created_at, Subscription.id)
)


def store_event(
    session: Executor,
    *,
    tenant_id: int,
    event_type: str,
    data: Any,
    subscription_keys: Sequence[str],
    source: str = "",
    timestamp: datetime | None = None,
    client_event_id: str | None = None,
    schema_valid: bool = True,
    validation_errors: list[Any] | None = None,
    only_subscription_id: str | None = None,
    now: datetime | None = None,
) -> StoredEvent:
    """Write an event and one due delivery per matching active subscription of its tenant.

    With *client_event_id*, a repeat returns the first event unchanged (``created`` False).
    With *only_subscription_id* (a test send), only that subscription gets a delivery.
    The caller commits: event and deliveries are one transaction.
    """
    now = now or utcnow()
    if client_event_id is not None:
        existing = find_client_event(session, tenant_id, client_event_id)
        if existing is not None:
            return existing
    values = {
        "id": ids.event_id(),
        "tenant_id": tenant_id,
        "type": event_type,
        "timestamp": timestamp or now,
        "data": data,
        "source": source,
        "client_event_id": client_event_id,
        "schema_valid": schema_valid,
        "validation_errors": validation_errors or None,
        "created_at": now,
    }
    event = Event(**values)  # transient: written below with a plain INSERT, returned to the caller
    targets = (
        [only_subscription_id]
        if only_subscription_id is not None
        else matching_subscription_ids(session, tenant_id, subscription_keys)
    )
    if client_event_id is None:
        session.execute(_INSERT_EVENT, values)
    else:
        try:
            with session.begin_nested():
                session.execute(_INSERT_EVENT, values)
        except IntegrityError:
            again = find_client_event(session, tenant_id, client_event_id)  # a concurrent first write won
            if again is None:
                raise
            return again
    if targets:
        session.execute(
            _INSERT_DELIVERY,
            [
                {
                    "id": ids.delivery_id(),
                    "tenant_id": tenant_id,
                    "event_id": event.id,
                    "subscription_id": subscription_id,
                    "status": PENDING,
                    "attempt_count": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for subscription_id in targets
            ],
        )
    return StoredEvent(event, len(targets), True)


def matching_subscription_ids(session: Executor, tenant_id: int, keys: Sequence[str]) -> list[str]:
    """Ids of the tenant's active subscriptions to any of *keys* (the event type, its group, its family),
    each once, oldest first.

    The one subscription match of the project. It reads ids only, through the ``(tenant_id,
    event_type)`` index of ``subscription_events``: it runs inside every ingest transaction.
    """
    if not keys:
        return []
    return list(session.scalars(_MATCHING, {"tenant_id": tenant_id, "keys": list(keys)}))


def find_client_event(session: Executor, tenant_id: int, client_event_id: str) -> StoredEvent | None:
    row = session.execute(
        select(Event.__table__).where(Event.tenant_id == tenant_id, Event.client_event_id == client_event_id)
    ).first()
    if row is None:
        return None
    count = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == row.id))
    return StoredEvent(Event(**row._mapping), int(count or 0), False)


def recent_events(
    session: Session,
    tenant_id: int,
    *,
    types: Sequence[str] = (),
    type_prefix: str | None = None,
    limit: int = 10,
) -> Sequence[Event]:
    """The tenant's newest events whose type is one of *types* or starts with *type_prefix*.

    An empty *type_prefix* matches every type.
    """
    conditions: list[ColumnElement[bool]] = []
    if types:
        conditions.append(Event.type.in_(list(types)))
    if type_prefix is not None:
        conditions.append(Event.type.startswith(type_prefix, autoescape=True))
    if not conditions:
        return []
    query = select(Event).where(Event.tenant_id == tenant_id, or_(*conditions))
    query = query.order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)
    return session.scalars(query).all()


def list_events(
    session: Session,
    tenant_id: int | None,
    *,
    event_type: str | None = None,
    schema_valid: bool | None = None,
    limit: int = 50,
    before: Cursor | None = None,
) -> Sequence[Event]:
    """Events newest first, starting after the *before* cursor; filtered by tenant, type and verdict."""
    query = select(Event).order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Event.tenant_id == tenant_id)
    if event_type is not None:
        query = query.where(Event.type == event_type)
    if schema_valid is not None:
        query = query.where(Event.schema_valid.is_(schema_valid))
    if before is not None:
        query = query.where(
            or_(
                Event.created_at < before.created_at,
                and_(Event.created_at == before.created_at, Event.id < before.id),
            )
        )
    return session.scalars(query).all()


def get_event(session: Session, event_id: str, tenant_id: int | None) -> Event | None:
    return get_in_scope(session, Event, event_id, tenant_id)
