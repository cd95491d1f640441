"""Events: writing one (the start of the outbox), idempotent repeats, reading samples.

The ingest writes the event alone, marked for fan-out; the worker then writes one delivery per
matching subscription (``connector/storage/fanout.py``), so the ingest's cost does not grow with
the number of subscribers. A test send writes its one delivery at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import ids
from connector.envelopes import envelope
from connector.storage.deliveries import PENDING
from connector.storage.engine import Executor
from connector.storage.models import Delivery, Event, utcnow
from connector.storage.subscriptions import Cursor
from connector.storage.tenants import get_in_scope

# An event's fan-out state (``events.fanout_state``).
FANOUT_PENDING = "pending"
FANOUT_DONE = "done"
QUARANTINED = "quarantined"
# Events not yet fanned out. Every query for them names this condition: only then does SQLite use
# the partial index that holds just those events.
WAITING = Event.fanout_state != literal(FANOUT_DONE, literal_execute=True)


def waiting_of_tenant(tenant_id: int) -> ColumnElement[bool]:
    """The tenant condition of a query for waiting events. ``+ 0`` keeps SQLite off the tenant's
    ``(tenant_id, created_at, id)`` index, which it prefers without statistics and which would walk
    all the tenant's events for the few waiting ones: the partial index of waiting events finds them."""
    return Event.tenant_id + 0 == tenant_id


@dataclass(frozen=True)
class EventRecord:
    """An event as written: the columns of ``events``, without the ORM's bookkeeping (the ingest
    writes many and reads none back)."""

    id: str
    tenant_id: int
    type: str
    timestamp: datetime
    data: Any
    source: str
    client_event_id: str | None
    schema_valid: bool
    validation_errors: list[Any] | None
    fanout_state: str
    fanout_after: str | None
    created_at: datetime

    def envelope(self) -> dict[str, Any]:
        return envelope(self.id, self.type, self.timestamp, self.data)

    def values(self) -> dict[str, Any]:
        """The row to insert."""
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = tuple(column.name for column in Event.__table__.columns)


@dataclass(frozen=True)
class StoredEvent:
    """An event as written (or found, for an idempotent repeat).

    *deliveries* is how many were made; ``None`` while the event waits for its fan-out (or in
    quarantine).
    """

    event: EventRecord
    deliveries: int | None
    created: bool


def new_event(*, tenant_id: int, **fields: Any) -> EventRecord:
    """A new event of *tenant_id*; *fields* as :func:`unfiled_event` takes them."""
    return EventRecord(tenant_id=tenant_id, **unfiled_event(**fields))


def unfiled_event(
    *,
    event_type: str,
    data: Any,
    source: str = "",
    timestamp: datetime | None = None,
    client_event_id: str | None = None,
    schema_valid: bool = True,
    validation_errors: list[Any] | None = None,
    quarantined: bool = False,
    test_send: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The columns of a new event but its tenant: waiting for its fan-out (or in quarantine; or, for
    a test send, done at once)."""
    now = now or utcnow()
    return {
        "id": ids.event_id(),
        "type": event_type,
        "timestamp": timestamp or now,
        "data": data,
        "source": source,
        "client_event_id": client_event_id,
        "schema_valid": schema_valid,
        "validation_errors": validation_errors or None,
        "fanout_state": QUARANTINED if quarantined else FANOUT_DONE if test_send else FANOUT_PENDING,
        "fanout_after": None,
        "created_at": now,
    }


# Statements of the ingest path, built once (Core inserts: no ORM unit of work per request).
_INSERT_EVENT = Event.__table__.insert()
_INSERT_DELIVERY = Delivery.__table__.insert()


def delivery_row(tenant_id: int, event_id: str, subscription_id: str, now: datetime) -> dict[str, Any]:
    """The values of a new due delivery."""
    return {
        "id": ids.delivery_id(),
        "tenant_id": tenant_id,
        "event_id": event_id,
        "subscription_id": subscription_id,
        "status": PENDING,
        "attempt_count": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }


def store_event(
    session: Executor,
    *,
    only_subscription_id: str | None = None,
    **fields: Any,
) -> StoredEvent:
    """Write an event (the *fields* of :func:`new_event`), to be fanned out to its tenant's matching
    subscriptions by the worker.

    With ``client_event_id``, a repeat returns the first event unchanged (``created`` False). With
    *only_subscription_id* (a test send), its one delivery, to that subscription, is written now and
    there is no fan-out.
    """
    event = new_event(**fields, test_send=only_subscription_id is not None)
    if event.client_event_id is not None:
        existing = find_client_event(session, event.tenant_id, event.client_event_id)
        if existing is not None:
            return existing
        try:
            with session.begin_nested():
                session.execute(_INSERT_EVENT, event.values())
        except IntegrityError:
            again = find_client_event(session, event.tenant_id, event.client_event_id)  # a concurrent first write won
            if again is None:
                raise
            return again
    else:
        session.execute(_INSERT_EVENT, event.values())
    if only_subscription_id is not None:
        session.execute(
            _INSERT_DELIVERY, delivery_row(event.tenant_id, event.id, only_subscription_id, event.created_at)
        )
        return StoredEvent(event, 1, True)
    return StoredEvent(event, None, True)


def find_client_event(session: Executor, tenant_id: int, client_event_id: str) -> StoredEvent | None:
    row = session.execute(
        select(Event.__table__).where(Event.tenant_id == tenant_id, Event.client_event_id == client_event_id)
    ).first()
    if row is None:
        return None
    event = EventRecord(**row._mapping)
    if event.fanout_state != FANOUT_DONE:
        return StoredEvent(event, None, False)
    count = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == row.id))
    return StoredEvent(event, int(count or 0), False)


def recent_events(
    session: Session,
    tenant_id: int,
    *,
    types: Sequence[str] = (),
    type_prefix: str | None = None,
    limit: int = 10,
) -> Sequence[Event]:
    """The tenant's newest events whose type is one of *types* or starts with *type_prefix*, but
    none in quarantine.

    An empty *type_prefix* matches every type.
    """
    conditions: list[ColumnElement[bool]] = []
    if types:
        conditions.append(Event.type.in_(list(types)))
    if type_prefix is not None:
        conditions.append(Event.type.startswith(type_prefix, autoescape=True))
    if not conditions:
        return []
    query = select(Event).where(Event.tenant_id == tenant_id, Event.fanout_state != QUARANTINED, or_(*conditions))
    query = query.order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)
    return session.scalars(query).all()


def list_events(session: Session, tenant_id: int | None, **filters: Any) -> Sequence[Event]:
    """Events newest first; *filters* as :func:`list_events_query` takes them."""
    return session.scalars(list_events_query(tenant_id, **filters)).all()


def list_events_query(
    tenant_id: int | None,
    *,
    event_type: str | None = None,
    schema_valid: bool | None = None,
    waiting: str | None = None,
    limit: int = 50,
    before: Cursor | None = None,
) -> Select[tuple[Event]]:
    """Events newest first, starting after the *before* cursor; filtered by tenant, type, verdict and,
    with *waiting* (``pending`` or ``quarantined``), only those not fanned out yet in that state."""
    query = select(Event).order_by(Event.created_at.desc(), Event.id.desc()).limit(limit)
    if waiting is not None:
        query = query.where(WAITING, Event.fanout_state == waiting)
    if tenant_id is not None:
        query = query.where(waiting_of_tenant(tenant_id) if waiting is not None else Event.tenant_id == tenant_id)
    if event_type is not None:
        query = query.where(Event.type == event_type)
    if schema_valid is not None:
        query = query.where(Event.schema_valid.is_(schema_valid))
    if before is not None:
        query = query.where(before.rows_before(Event.created_at, Event.id))
    return query


def get_event(session: Session, event_id: str, tenant_id: int | None) -> Event | None:
    return get_in_scope(session, Event, event_id, tenant_id)
