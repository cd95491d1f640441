"""The fan-out: one delivery per matching subscription for each event the ingest stored.

It runs after the ingest, in the worker, in transactions bounded by a number of deliveries: an
event with many subscribers is fanned out in chunks, each remembering in the event row the last
subscription it reached, so a crash at any point resumes where the last commit left off. The
unique ``(event_id, subscription_id)`` index makes a second delivery for one pair impossible. On
PostgreSQL, workers lock the events they fan out (``FOR UPDATE SKIP LOCKED``) and never share one.
A call reads its events a page at a time and writes each page's deliveries and progress in one
statement each: per event, only the subscriber lookup is its own. The first page is one event (it
may use the whole budget), so that a worker locks no event it will not fan out.

A subscription receives the events that arrived after it was made and while it is active and
unexpired: what it would have received had the deliveries been written by the ingest itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update

from connector.storage.engine import Executor
from connector.storage.events import FANOUT_DONE, FANOUT_PENDING, WAITING, delivery_row
from connector.storage.models import Delivery, Event, Subscription, SubscriptionEvent, utcnow
from connector.storage.subscriptions import ACTIVE
from connector.storage.value_lists import OneOf

_E = Event.__table__
_S = Subscription.__table__
_SE = SubscriptionEvent.__table__

_PENDING = (
    select(_E.c.id, _E.c.tenant_id, _E.c.type, _E.c.created_at, _E.c.fanout_after)
    .where(WAITING, _E.c.fanout_state == FANOUT_PENDING)
    .order_by(_E.c.created_at, _E.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# The next chunk of an event's subscribers, in id order after the last one reached.
_SUBSCRIBERS = (
    select(_S.c.id)
    .where(
        _S.c.id.in_(
            select(_SE.c.subscription_id).where(
                _SE.c.tenant_id == bindparam("tenant_id"),
                OneOf(_SE.c.event_type, "keys"),
            )
        ),
        _S.c.status == ACTIVE,
        _S.c.created_at <= bindparam("event_created_at"),
        or_(_S.c.expires_at.is_(None), _S.c.expires_at > bindparam("now")),
        _S.c.id > bindparam("after"),
    )
    .order_by(_S.c.id)
    .limit(bindparam("limit"))
)
_INSERT_DELIVERIES = Delivery.__table__.insert()
_PROGRESS = update(_E).where(_E.c.id == bindparam("event_id")).values(fanout_after=bindparam("reached"))
_DONE = update(_E).where(OneOf(_E.c.id, "event_ids")).values(fanout_state=FANOUT_DONE, fanout_after=None)


def subscribers(
    connection: Executor,
    *,
    tenant_id: int,
    keys: Sequence[str],
    event_created_at: datetime,
    now: datetime,
    after: str = "",
    limit: int,
) -> list[str]:
    """The next *limit* subscription ids after *after*, in id order, that receive an event of the
    tenant: subscribed to one of *keys* (the type, its group, its module's wildcard, ``*``), active,
    unexpired at *now*, made no later than the event. The one subscription match of the project;
    it goes through the ``(tenant_id, event_type)`` index of ``subscription_events``."""
    if not keys:
        return []
    params = {
        "tenant_id": tenant_id,
        "keys": list(keys),
        "event_created_at": event_created_at,
        "now": now,
        "after": after,
        "limit": limit,
    }
    return list(connection.scalars(_SUBSCRIBERS, params))


@dataclass(frozen=True)
class FannedOut:
    """What one call wrote, and whether pending fan-out work is left."""

    events: int
    deliveries: int
    more: bool


def fan_out(
    connection: Executor,
    subscription_keys: Callable[[str], Sequence[str]],
    budget: int,
    now: datetime | None = None,
) -> FannedOut:
    """Fan out the oldest pending events in the caller's transaction, writing at most *budget*
    deliveries (an event without subscribers counts as one). *subscription_keys* gives what a
    subscription may name to receive a type."""
    now = now or utcnow()
    written = finished = used = 0
    page = 1  # the first event may take the whole budget: lock no other until its size is known
    while True:
        room = budget - used
        if room <= 0:
            return FannedOut(finished, written, True)
        events = connection.execute(_PENDING, {"limit": min(page, room)}).all()
        if not events:
            return FannedOut(finished, written, False)
        rows: list[dict[str, object]] = []
        done: list[str] = []
        resumes_later = False
        for event in events:
            room = budget - used
            found = subscribers(
                connection,
                tenant_id=event.tenant_id,
                keys=subscription_keys(event.type),
                event_created_at=event.created_at,
                now=now,
                after=event.fanout_after or "",
                limit=room + 1,
            )
            chunk = found[:room]
            rows += [delivery_row(event.tenant_id, event.id, sub_id, now) for sub_id in chunk]
            used += max(len(chunk), 1)
            if len(found) > room:
                connection.execute(_PROGRESS, {"event_id": event.id, "reached": chunk[-1]})
                resumes_later = True
                break
            done.append(event.id)
            if used >= budget:
                break
        if rows:
            connection.execute(_INSERT_DELIVERIES, rows)
        if done:  # out of WAITING: the next page's query no longer sees them
            connection.execute(_DONE, {"event_ids": done})
        written += len(rows)
        finished += len(done)
        if resumes_later:
            return FannedOut(finished, written, True)
        page = budget
