"""The delivery queue (an outbox in the database) and the event repository.

An event and one delivery per matching active subscription are written in one
transaction. Workers claim due deliveries in batches under a lease (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL; SQLite serialises writers), record each attempt and move the
delivery on. A lease that expires (its worker died) makes the delivery claimable again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import ids
from connector.storage.models import Delivery, DeliveryAttempt, Event, IngestToken, Subscription, SubscriptionEvent, utcnow
from connector.storage.subscriptions import ACTIVE, DISABLED, Cursor, valid_secrets
from connector.storage.tenants import get_in_scope

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED, CANCELLED)

# Writing an event needs only Core statements, so it runs on an ORM session or, on the ingest
# path where the session's bookkeeping is a measurable share of the request, a plain connection.
Executor = Session | Connection


@dataclass(frozen=True)
class StoredEvent:
    """An event as written (or found, for an idempotent repeat) with its delivery count."""

    event: Event
    deliveries: int
    created: bool


@dataclass(frozen=True)
class Job:
    """A claimed delivery: everything a worker needs to attempt it without touching the database."""

    delivery_id: str
    subscription_id: str
    event_id: str
    attempt_count: int
    target_url: str
    secrets: tuple[str, ...]
    envelope: dict[str, Any]
    lease_expires_at: datetime


@dataclass(frozen=True)
class AttemptOutcome:
    """The result of one attempt and what the policy made of it.

    *action* is ``succeeded``, ``retry`` (with *next_attempt_at*), ``failed`` (the schedule
    ran out) or ``gone`` (the target answered 410).
    """

    job: Job
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    response_excerpt: str
    action: str
    next_attempt_at: datetime | None = None


# --- writing events -------------------------------------------------------------------------

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
_INGEST_SOURCE = select(IngestToken.tenant_id, IngestToken.source).where(
    IngestToken.id == bindparam("token_id"), IngestToken.revoked_at.is_(None)
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
    targets = [only_subscription_id] if only_subscription_id is not None else matching_subscription_ids(
        session, tenant_id, subscription_keys
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


def active_ingest_source(session: Executor, token_id: str) -> tuple[int, str] | None:
    """The tenant and source of a live (not revoked) ingest URL, read in the ingest transaction."""
    row = session.execute(_INGEST_SOURCE, {"token_id": token_id}).first()
    return (row.tenant_id, row.source) if row is not None else None


def find_client_event(session: Executor, tenant_id: int, client_event_id: str) -> StoredEvent | None:
    row = session.execute(
        select(Event.__table__).where(Event.tenant_id == tenant_id, Event.client_event_id == client_event_id)
    ).first()
    if row is None:
        return None
    count = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == row.id))
    return StoredEvent(Event(**row._mapping), int(count or 0), False)


# --- claiming and recording -----------------------------------------------------------------

# Statements of the worker's path, built once and run as Core statements on the tables: the
# worker runs them several times a second, and the ORM's per-statement work (entity
# compilation, bulk-update bookkeeping) would cost more than the statements themselves.
_D = Delivery.__table__
_S = Subscription.__table__
_E = Event.__table__

# Lease the due deliveries and return their ids in one statement. On PostgreSQL the inner
# SELECT skips rows other workers are leasing right now; SQLite serialises writers anyway.
_LEASE_DUE = (
    update(_D)
    .where(
        _D.c.id.in_(
            select(_D.c.id)
            .where(
                _D.c.status == PENDING,
                _D.c.next_attempt_at <= bindparam("now"),
                or_(_D.c.lease_expires_at.is_(None), _D.c.lease_expires_at < bindparam("now")),
            )
            .order_by(_D.c.next_attempt_at)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
    )
    .values(lease_owner=bindparam("owner"), lease_expires_at=bindparam("until"))
    .returning(_D.c.id)
)
_JOB_ROWS = (
    select(
        _D.c.id,
        _D.c.attempt_count,
        _E.c.id.label("event_id"),
        _E.c.type,
        _E.c.timestamp,
        _E.c.data,
        _S.c.id.label("subscription_id"),
        _S.c.status,
        _S.c.target_url,
        _S.c.secret,
        _S.c.previous_secret,
        _S.c.previous_secret_expires_at,
    )
    .join(_E, _E.c.id == _D.c.event_id)
    .join(_S, _S.c.id == _D.c.subscription_id)
    .where(_D.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_D.c.next_attempt_at)
)
_RELEASE = (
    update(_D)
    .where(
        _D.c.id.in_(bindparam("ids", expanding=True)),
        _D.c.lease_owner == bindparam("owner"),
        _D.c.status == PENDING,
    )
    .values(lease_owner=None, lease_expires_at=None, updated_at=bindparam("now"))
)
_INSERT_ATTEMPTS = DeliveryAttempt.__table__.insert()
# Move attempted deliveries on, only where the worker still holds the lease; returns those ids.
_OWNED_ATTEMPTED = and_(_D.c.id.in_(bindparam("ids", expanding=True)), _D.c.lease_owner == bindparam("owner"))
_ATTEMPTED = {
    "attempt_count": _D.c.attempt_count + 1,
    "last_status_code": bindparam("code"),
    "last_error": bindparam("error_text"),
    "lease_owner": None,
    "lease_expires_at": None,
    "updated_at": bindparam("now"),
}
_TO_RETRY = (
    update(_D)
    .where(_OWNED_ATTEMPTED)
    .values(**_ATTEMPTED, status=PENDING, next_attempt_at=bindparam("next_at"))
    .returning(_D.c.id)
)
_TO_DONE = (
    update(_D)
    .where(_OWNED_ATTEMPTED)
    .values(**_ATTEMPTED, status=bindparam("new_status"), completed_at=bindparam("now"))
    .returning(_D.c.id)
)
_CLEAR_FAILING = (
    update(_S)
    .where(_S.c.id.in_(bindparam("ids", expanding=True)), _S.c.failing_since.is_not(None))
    .values(failing_since=None)
)
_START_FAILING = (
    update(_S)
    .where(_S.c.id.in_(bindparam("ids", expanding=True)), _S.c.failing_since.is_(None))
    .values(failing_since=bindparam("now"))
)
_WORN_OUT = select(_S.c.id).where(
    _S.c.id.in_(bindparam("ids", expanding=True)), _S.c.status == ACTIVE, _S.c.failing_since <= bindparam("limit")
)


def claim(session: Executor, worker_id: str, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Job]:
    """Lease up to *limit* due deliveries to *worker_id* and return them as jobs.

    A due delivery is pending, its time has come and it has no live lease. Deliveries whose
    subscription is no longer active are cancelled instead of being handed out.
    """
    now = now or utcnow()
    until = now + timedelta(seconds=lease_seconds)
    delivery_ids = list(
        session.scalars(_LEASE_DUE, {"now": now, "limit": limit, "owner": worker_id, "until": until})
    )
    if not delivery_ids:
        return []
    rows = session.execute(_JOB_ROWS, {"ids": delivery_ids}).all()
    jobs: list[Job] = []
    inactive: list[str] = []
    for row in rows:
        if row.status != ACTIVE:
            inactive.append(row.id)
            continue
        event = Event(id=row.event_id, type=row.type, timestamp=row.timestamp, data=row.data)
        jobs.append(
            Job(
                delivery_id=row.id,
                subscription_id=row.subscription_id,
                event_id=row.event_id,
                attempt_count=row.attempt_count,
                target_url=row.target_url,
                secrets=tuple(valid_secrets(row, now)),  # type: ignore[arg-type]
                envelope=event.envelope(),
                lease_expires_at=until,
            )
        )
    if inactive:
        _finish(session, _D.c.id.in_(inactive), CANCELLED, now, "the subscription is disabled")
    return jobs


def release(session: Executor, worker_id: str, delivery_ids: Sequence[str], now: datetime | None = None) -> int:
    """Give back deliveries *worker_id* claimed but did not attempt: due again at once, for any worker.

    Only leases the worker still holds are cleared; the attempt count stays as it was.
    """
    if not delivery_ids:
        return 0
    result = session.execute(_RELEASE, {"ids": list(delivery_ids), "owner": worker_id, "now": now or utcnow()})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def record_attempts(
    session: Executor,
    worker_id: str,
    outcomes: Iterable[AttemptOutcome],
    *,
    disable_after_failing_seconds: float,
    now: datetime | None = None,
) -> None:
    """Log each attempt of *worker_id* and move its delivery on, if the worker still holds the lease.

    A success clears the subscription's failure record; a failure starts it, and a
    subscription failing for longer than *disable_after_failing_seconds* is disabled
    (``failing``), as is one whose target answered 410 (``gone``).
    """
    now = now or utcnow()
    outcomes = list(outcomes)
    if not outcomes:
        return
    session.execute(
        _INSERT_ATTEMPTS,
        [
            {
                "delivery_id": o.job.delivery_id,
                "started_at": o.started_at,
                "duration_ms": o.duration_ms,
                "status_code": o.status_code,
                "error": o.error,
                "response_excerpt": o.response_excerpt,
                "worker_id": worker_id,
            }
            for o in outcomes
        ],
    )
    # One UPDATE per group of outcomes that write the same values (usually: all succeeded with 200).
    groups: dict[tuple[Any, ...], list[str]] = {}
    for o in outcomes:
        key = (o.action, o.status_code, o.error, o.next_attempt_at if o.action == "retry" else None)
        groups.setdefault(key, []).append(o.job.delivery_id)
    owned: set[str] = set()  # deliveries whose lease this worker still held; the others moved on without it
    for (action, status_code, error, next_attempt_at), delivery_ids in groups.items():
        params = {"ids": delivery_ids, "owner": worker_id, "code": status_code, "error_text": error, "now": now}
        if action == "retry":
            owned.update(session.scalars(_TO_RETRY, {**params, "next_at": next_attempt_at}))
        else:
            new_status = SUCCEEDED if action == "succeeded" else FAILED
            owned.update(session.scalars(_TO_DONE, {**params, "new_status": new_status}))
    succeeded: set[str] = set()
    failing: set[str] = set()
    gone: set[str] = set()
    for o in outcomes:
        if o.job.delivery_id in owned:
            (succeeded if o.action == "succeeded" else gone if o.action == "gone" else failing).add(o.job.subscription_id)
    failing -= succeeded
    if succeeded:
        session.execute(_CLEAR_FAILING, {"ids": list(succeeded)})
    if failing:
        session.execute(_START_FAILING, {"ids": list(failing), "now": now})
        limit = now - timedelta(seconds=disable_after_failing_seconds)
        for subscription_id in list(session.scalars(_WORN_OUT, {"ids": list(failing), "limit": limit})):
            disable(session, subscription_id, "failing", now)
    for subscription_id in gone:
        disable(session, subscription_id, "gone", now)


def disable(session: Executor, subscription_id: str, reason: str, now: datetime | None = None) -> None:
    """Disable a subscription and end its pending deliveries.

    ``gone`` cancels them (the target said it no longer exists); any other reason marks them
    failed, so that a recover after re-enabling brings them back.
    """
    now = now or utcnow()
    session.execute(
        update(_S).where(_S.c.id == subscription_id).values(status=DISABLED, disabled_reason=reason, updated_at=now)
    )
    status = CANCELLED if reason == "gone" else FAILED
    _finish(
        session,
        and_(_D.c.subscription_id == subscription_id, _D.c.status == PENDING, _D.c.lease_owner.is_(None)),
        status,
        now,
        f"the subscription was disabled ({reason})",
    )


def _finish(session: Executor, condition: Any, status: str, now: datetime, error: str) -> int:
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


# --- manual retry, recover, purge -----------------------------------------------------------


def requeue(session: Session, delivery: Delivery, now: datetime | None = None) -> None:
    """Make one delivery due now (a manual retry); its attempt history stays."""
    now = now or utcnow()
    delivery.status = PENDING
    delivery.next_attempt_at = now
    delivery.completed_at = None
    delivery.lease_owner = None
    delivery.lease_expires_at = None
    delivery.updated_at = now


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


def purge(session: Session, older_than: datetime, batch: int = 500) -> int:
    """Delete up to *batch* events created before *older_than* with no pending delivery.

    Their deliveries and attempts go with them (foreign keys cascade).
    """
    pending = exists().where(Delivery.event_id == Event.id, Delivery.status == PENDING)
    victims = list(session.scalars(select(Event.id).where(Event.created_at < older_than, ~pending).limit(batch)))
    if not victims:
        return 0
    attempts = select(Delivery.id).where(Delivery.event_id.in_(victims))
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(attempts)))
    session.execute(delete(Delivery).where(Delivery.event_id.in_(victims)))
    session.execute(delete(Event).where(Event.id.in_(victims)))
    return len(victims)


# --- reading the log ------------------------------------------------------------------------


def get_delivery(session: Session, delivery_id: str, tenant_id: int | None) -> Delivery | None:
    return get_in_scope(session, Delivery, delivery_id, tenant_id)


def list_deliveries(
    session: Session,
    subscription_id: str,
    *,
    status: str | None = None,
    limit: int = 50,
    before: Cursor | None = None,
) -> list[tuple[Delivery, Event]]:
    """A subscription's deliveries with their events, newest first, starting after the *before* cursor."""
    query = (
        select(Delivery, Event)
        .join(Event, Event.id == Delivery.event_id)
        .where(Delivery.subscription_id == subscription_id)
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Delivery.status == status)
    if before is not None:
        query = query.where(
            or_(
                Delivery.created_at < before.created_at,
                and_(Delivery.created_at == before.created_at, Delivery.id < before.id),
            )
        )
    return [(row[0], row[1]) for row in session.execute(query).all()]


def attempts_of(session: Session, delivery_id: str) -> Sequence[DeliveryAttempt]:
    return session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
    ).all()


# --- metrics --------------------------------------------------------------------------------


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
    oldest = session.scalar(select(Delivery.next_attempt_at).where(due_filter).order_by(Delivery.next_attempt_at).limit(1))
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return QueueStats(by_status, due, age)
