"""Accepting events: the one path by which an event enters the connector, whoever sends it
(BillRun's ingest URL, ``POST /api/v1/events``, a test send, the bench).

The event and its deliveries are written in the caller's transaction; once it commits, the event
is counted and the worker is woken for its deliveries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

from connector.metrics import EVENTS_INGESTED
from connector.services.errors import Invalid
from connector.services.runtime import Runtime
from connector.storage import events
from connector.storage.engine import Executor
from connector.storage.events import StoredEvent


def schema_issues(runtime: Runtime, event_type: str, data: Any) -> list[str]:
    """What makes *data* fail the schema of *event_type* (empty when it conforms).

    With strict schemas on, a payload with issues is refused; otherwise it is kept and flagged.
    """
    issues = [str(issue) for issue in runtime.catalog.validate_data(event_type, data)]
    if issues and runtime.settings.strict_schemas:
        raise Invalid(
            f"the {event_type} payload does not match its schema ({len(issues)} errors)",
            {"data": issues},
            code="schema_mismatch",
        )
    return issues


def accept_event(
    runtime: Runtime,
    executor: Executor,
    *,
    tenant_id: int,
    event_type: str,
    data: Any,
    path: str,
    source: str,
    issues: list[str],
    timestamp: datetime | None = None,
    client_event_id: str | None = None,
    only_subscription_id: str | None = None,
) -> StoredEvent:
    """Store an event with one delivery per matching subscription (or only *only_subscription_id*).

    *path* is how it came in (``billrun``, ``api``, ``test``), *source* what is recorded with it.

    *issues* come from :func:`schema_issues`, checked before the transaction so that it stays short.
    On a session, :func:`accepted` runs when it commits; on a plain connection the caller calls it.
    """
    stored = events.store_event(
        executor,
        tenant_id=tenant_id,
        event_type=event_type,
        data=data,
        subscription_keys=() if only_subscription_id else runtime.catalog.subscription_keys(event_type),
        source=source,
        timestamp=timestamp,
        client_event_id=client_event_id,
        schema_valid=not issues,
        validation_errors=issues,
        only_subscription_id=only_subscription_id,
    )
    if isinstance(executor, Session):
        after_commit(executor, lambda: accepted(runtime, stored, path))
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
    worker for its deliveries."""
    if not stored.created:
        return
    EVENTS_INGESTED.labels(path).inc()
    if stored.deliveries:
        runtime.deliveries_due()
