"""Claiming due deliveries under a lease and recording attempts: the worker's side of the queue.

Workers claim due deliveries in batches under a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL;
SQLite serialises writers), record each attempt and move the delivery on. A lease that expires
(its worker died) makes the delivery claimable again; an attempt is only recorded against a lease
its worker still holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, bindparam, cast, or_, select, update

from connector.envelopes import body_bytes
from connector.storage.deliveries import CANCELLED, FAILED, PENDING, SUCCEEDED, finish
from connector.storage.engine import Executor
from connector.storage.events import FANOUT_PENDING, WAITING
from connector.storage.models import Delivery, DeliveryAttempt, Event, Subscription, utcnow
from connector.storage.subscriptions import ACTIVE, DISABLED, valid_secrets
from connector.storage.value_lists import OneOf


@dataclass(frozen=True)
class Job:
    """A claimed delivery: everything a worker needs to attempt it without touching the database."""

    delivery_id: str
    subscription_id: str
    event_id: str
    attempt_count: int
    target_url: str
    secrets: tuple[str, ...]
    body: bytes  # the delivery body, exactly as it is signed and sent
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
        cast(_E.c.data, Text).label("data_json"),  # the stored text, spliced into the body as it is
        _S.c.id.label("subscription_id"),
        _S.c.status,
        _S.c.target_url,
        _S.c.secret,
        _S.c.previous_secret,
        _S.c.previous_secret_expires_at,
        _S.c.expires_at,
    )
    .join(_E, _E.c.id == _D.c.event_id)
    .join(_S, _S.c.id == _D.c.subscription_id)
    .where(OneOf(_D.c.id, "ids"))
    .order_by(_D.c.next_attempt_at)
)
_RELEASE = (
    update(_D)
    .where(
        OneOf(_D.c.id, "ids"),
        _D.c.lease_owner == bindparam("owner"),
        _D.c.status == PENDING,
    )
    .values(lease_owner=None, lease_expires_at=None, updated_at=bindparam("now"))
)
_INSERT_ATTEMPTS = DeliveryAttempt.__table__.insert()
# Before the worker touches deliveries it locks their subscriptions (PostgreSQL; SQLite serialises
# writers): a subscription's DELETE locks the subscription, then its deliveries, so taking them in the
# same order makes one wait for the other instead of both waiting for each other (a deadlock).
_HOLD_SUBSCRIPTIONS = (
    select(_S.c.id)
    .where(_S.c.id.in_(select(_D.c.subscription_id).where(OneOf(_D.c.id, "ids"))))
    .order_by(_S.c.id)
    .with_for_update(key_share=True)
)
_PRESENT = select(_D.c.id).where(OneOf(_D.c.id, "ids"))
# Move attempted deliveries on, only where the worker still holds the lease; returns those ids.
_OWNED_ATTEMPTED = and_(OneOf(_D.c.id, "ids"), _D.c.lease_owner == bindparam("owner"))
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
_COUNT_ATTEMPT = (
    update(_D).where(OneOf(_D.c.id, "ids")).values(attempt_count=_D.c.attempt_count + 1, updated_at=bindparam("now"))
)
_CLEAR_FAILING = update(_S).where(OneOf(_S.c.id, "ids"), _S.c.failing_since.is_not(None)).values(failing_since=None)
_START_FAILING = (
    update(_S).where(OneOf(_S.c.id, "ids"), _S.c.failing_since.is_(None)).values(failing_since=bindparam("now"))
)
_WORN_OUT = select(_S.c.id).where(
    OneOf(_S.c.id, "ids"), _S.c.status == ACTIVE, _S.c.failing_since <= bindparam("limit")
)


_DUE = (
    select(_D.c.id)
    .where(
        _D.c.status == PENDING,
        _D.c.next_attempt_at <= bindparam("now"),
        or_(_D.c.lease_expires_at.is_(None), _D.c.lease_expires_at < bindparam("now")),
    )
    .limit(1)
)
_TO_FAN_OUT = select(_E.c.id).where(WAITING, _E.c.fanout_state == FANOUT_PENDING).limit(1)


def work_waiting(session: Executor, now: datetime | None = None) -> bool:
    """Whether some delivery is due and unleased, or some event waits for its fan-out: two index
    lookups, for a worker that has nothing to do to ask before it takes the write lock."""
    if session.execute(_TO_FAN_OUT).first() is not None:
        return True
    return session.execute(_DUE, {"now": now or utcnow()}).first() is not None


def claim(
    session: Executor, worker_id: str, limit: int, lease_seconds: float, now: datetime | None = None
) -> list[Job]:
    """Lease up to *limit* due deliveries to *worker_id* and return them as jobs.

    A due delivery is pending, its time has come and it has no live lease. Deliveries whose
    subscription is no longer active, or has expired, are cancelled instead of being handed out.
    """
    now = now or utcnow()
    until = now + timedelta(seconds=lease_seconds)
    delivery_ids = list(session.scalars(_LEASE_DUE, {"now": now, "limit": limit, "owner": worker_id, "until": until}))
    if not delivery_ids:
        return []
    rows = session.execute(_JOB_ROWS, {"ids": delivery_ids}).all()
    jobs: list[Job] = []
    inactive: list[str] = []
    expired: list[str] = []
    for row in rows:
        if row.status != ACTIVE:
            inactive.append(row.id)
            continue
        if row.expires_at is not None and row.expires_at <= now:
            expired.append(row.id)
            continue
        jobs.append(
            Job(
                delivery_id=row.id,
                subscription_id=row.subscription_id,
                event_id=row.event_id,
                attempt_count=row.attempt_count,
                target_url=row.target_url,
                secrets=tuple(valid_secrets(row, now)),  # type: ignore[arg-type]
                body=body_bytes(row.event_id, row.type, row.timestamp, row.data_json),
                lease_expires_at=until,
            )
        )
    if inactive:
        finish(session, _D.c.id.in_(inactive), CANCELLED, now, "the subscription is disabled")
    if expired:
        finish(session, _D.c.id.in_(expired), CANCELLED, now, "the subscription expired")
    return jobs


def release(session: Executor, worker_id: str, delivery_ids: Sequence[str], now: datetime | None = None) -> int:
    """Give back deliveries *worker_id* claimed but did not attempt: due again at once, for any worker.

    Only leases the worker still holds are cleared; the attempt count stays as it was.
    """
    if not delivery_ids:
        return 0
    session.execute(_HOLD_SUBSCRIPTIONS, {"ids": list(delivery_ids)})
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
    delivery_ids = [o.job.delivery_id for o in outcomes]
    session.execute(_HOLD_SUBSCRIPTIONS, {"ids": delivery_ids})
    # A delivery removed meanwhile (its subscription was deleted) took its log with it: nothing to record.
    present = set(session.scalars(_PRESENT, {"ids": delivery_ids}))
    outcomes = [o for o in outcomes if o.job.delivery_id in present]
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
    # A worker that lost its lease (it ran past it) still made the attempt: count it, move nothing.
    lost = [o.job.delivery_id for o in outcomes if o.job.delivery_id not in owned]
    if lost:
        session.execute(_COUNT_ATTEMPT, {"ids": lost, "now": now})
    succeeded: set[str] = set()
    failing: set[str] = set()
    gone: set[str] = set()
    for o in outcomes:
        if o.job.delivery_id in owned:
            (succeeded if o.action == "succeeded" else gone if o.action == "gone" else failing).add(
                o.job.subscription_id
            )
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
    finish(
        session,
        and_(_D.c.subscription_id == subscription_id, _D.c.status == PENDING, _D.c.lease_owner.is_(None)),
        status,
        now,
        f"the subscription was disabled ({reason})",
    )
