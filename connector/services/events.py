"""Accepting events: the one path by which an event enters the connector, whoever sends it
(BillRun's ingest URL, ``POST /api/v1/events``, a test send, the bench).

The event is written in the caller's transaction; once it commits, the event is counted and the
worker is woken to fan it out into deliveries (``connector/storage/fanout.py``). With strict schemas
on, an event whose payload fails its schema is kept in quarantine instead: stored, acknowledged,
not delivered until an operator releases it. Nothing is refused for its content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from connector.metrics import EVENTS_INGESTED, EVENTS_QUARANTINED, count_type
from connector.services.runtime import Runtime
from connector.storage import events
from connector.storage.engine import Executor
from connector.storage.events import StoredEvent


@dataclass(frozen=True)
class Verdict:
    """What the catalog makes of a payload: *issues* fail its schema (and, with strict schemas,
    quarantine it); *notes* are worth recording but hold nothing back."""

    issues: list[str]
    notes: list[str]


def assess(runtime: Runtime, event_type: str, data: Any) -> Verdict:
    """Check *data* against the schema of *event_type*; a type the catalog does not know is noted
    (it is typed by the schema of its module and reaches ``*`` and ``<module>.*`` subscribers)."""
    issues = [str(issue) for issue in runtime.catalog.validate_data(event_type, data)]
    notes = []
    if not runtime.catalog.knows(event_type):
        notes.append(f"$.type: {event_type} is not in the catalog; typed by the schema of its module")
    return Verdict(issues, notes)


def event_fields(runtime: Runtime, verdict: Verdict) -> dict[str, Any]:
    """What the verdict makes of an event: its validity, its recorded errors and, with strict
    schemas on and issues found, quarantine. The one rule for every path an event comes in by."""
    return {
        "schema_valid": not verdict.issues and not verdict.notes,
        "validation_errors": [*verdict.notes, *verdict.issues],
        "quarantined": bool(verdict.issues) and runtime.settings.strict_schemas,
    }


def accept_event(
    runtime: Runtime,
    executor: Executor,
    *,
    tenant_id: int,
    event_type: str,
    data: Any,
    path: str,
    source: str,
    verdict: Verdict,
    timestamp: datetime | None = None,
    client_event_id: str | None = None,
    only_subscription_id: str | None = None,
) -> StoredEvent:
    """Store an event for the fan-out to its tenant's subscriptions (or for *only_subscription_id*).

    *path* is how it came in (``api``, ``test``), *source* what is recorded with it. *verdict* comes
    from :func:`assess`, made before the transaction so that it stays short. On a session,
    :func:`accepted` runs when it commits; on a plain connection the caller calls it. (BillRun's
    ingest writes through :func:`accept_ingested` instead, on the driver's connection.)
    """
    stored = events.store_event(
        executor,
        tenant_id=tenant_id,
        event_type=event_type,
        data=data,
        source=source,
        timestamp=timestamp,
        client_event_id=client_event_id,
        only_subscription_id=only_subscription_id,
        **event_fields(runtime, verdict),
    )
    if isinstance(executor, Session):
        after_commit(executor, lambda: accepted(runtime, stored, path))
    return stored


def accept_ingested(
    runtime: Runtime, token_id: str, *, event_type: str, data: Any, verdict: Verdict
) -> StoredEvent | None:
    """Store an event that came in by the ingest URL *token_id*, for the URL's tenant and with its
    source (``billrun`` when it has none), in one statement that also checks the URL is live;
    ``None``, nothing stored, when it is not."""
    event = runtime.ingest_writer.write(
        token_id,
        events.unfiled_event(event_type=event_type, data=data, source="billrun", **event_fields(runtime, verdict)),
    )
    if event is None:
        return None
    stored = StoredEvent(event, None, True)
    accepted(runtime, stored, "billrun")
    return stored


_AFTER_COMMIT = "billrun_connector.after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run *action* when the session's transaction commits; forget it if the transaction rolls back."""
    pending = session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_AFTER_COMMIT] = []
        sqlalchemy_event.listen(session, "after_commit", _run_after_commit)
        sqlalchemy_event.listen(session, "after_rollback", _drop_after_commit)
    pending.append(action)


def _run_after_commit(session: Session) -> None:
    actions, session.info[_AFTER_COMMIT] = session.info[_AFTER_COMMIT], []
    for action in actions:
        action()


def _drop_after_commit(session: Session) -> None:
    session.info[_AFTER_COMMIT] = []


def accepted(runtime: Runtime, stored: StoredEvent, path: str) -> None:
    """After the commit: count the event under *path* (``billrun``, ``api``, ``test``) and wake the
    worker for its fan-out or its delivery."""
    if not stored.created:
        return
    EVENTS_INGESTED.labels(path).inc()
    if stored.event.fanout_state == events.QUARANTINED:
        count_type(EVENTS_QUARANTINED, stored.event.type)
    else:
        runtime.work_due()
