"""Quarantine: events that strict schemas held back, listed and released by an operator.

Released events are checked again against the schemas as they are now (the verdict is recorded)
and go to the fan-out whatever it says: releasing is the operator's decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from connector.services.errors import Conflict, NotFound
from connector.services.events import after_commit, assess
from connector.services.runtime import Runtime
from connector.storage import quarantine
from connector.storage.events import QUARANTINED
from connector.storage.models import Event
from connector.storage.subscriptions import Cursor
from connector.storage.tenants import get_in_scope

MAX_RELEASE = 1000


def page(
    session: Session,
    scope: int | None,
    *,
    event_type: str | None = None,
    limit: int = 50,
    after: Cursor | None = None,
) -> tuple[list[Event], bool]:
    """Up to *limit* quarantined events of the tenant *scope* (``None``: every tenant), oldest
    first, and whether more follow."""
    rows = list(quarantine.list_quarantined(session, scope, event_type=event_type, limit=limit + 1, after=after))
    return rows[:limit], len(rows) > limit


def _release(runtime: Runtime, session: Session, events: Sequence[Event]) -> int:
    for event in events:
        verdict = assess(runtime, event.type, event.data)
        quarantine.release(session, event, not verdict.issues and not verdict.notes, [*verdict.notes, *verdict.issues])
    if events:
        session.flush()
        after_commit(session, runtime.work_due)
    return len(events)


def release_one(runtime: Runtime, session: Session, scope: int | None, event_id: str) -> Event:
    """Release one quarantined event of the tenant *scope*."""
    event = get_in_scope(session, Event, event_id, scope)
    if event is None:
        raise NotFound(f"no event {event_id!r}")
    if event.fanout_state != QUARANTINED:
        raise Conflict(f"event {event_id!r} is not in quarantine")
    _release(runtime, session, [event])
    return event


def release_all(runtime: Runtime, session: Session, scope: int | None, *, event_type: str | None = None) -> int:
    """Release up to MAX_RELEASE quarantined events of the tenant *scope*, oldest first, optionally
    only those of *event_type*; returns how many (call again while it returns MAX_RELEASE)."""
    events = quarantine.list_quarantined(session, scope, event_type=event_type, limit=MAX_RELEASE)
    return _release(runtime, session, events)
