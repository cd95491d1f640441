"""Events in quarantine: listing them and releasing them to the fan-out.

With strict schemas on, an event whose payload fails its schema is stored in quarantine
(``events.fanout_state``) instead of being fanned out; an operator lists and releases them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.events import FANOUT_PENDING, QUARANTINED, WAITING, waiting_of_tenant
from connector.storage.models import Event
from connector.storage.subscriptions import Cursor


def list_quarantined(
    session: Session,
    tenant_id: int | None,
    *,
    event_type: str | None = None,
    limit: int = 50,
    after: Cursor | None = None,
) -> Sequence[Event]:
    """Quarantined events, oldest first, of *tenant_id* (every tenant when ``None``)."""
    query = select(Event).where(WAITING, Event.fanout_state == QUARANTINED)
    if tenant_id is not None:
        query = query.where(waiting_of_tenant(tenant_id))
    if event_type is not None:
        query = query.where(Event.type == event_type)
    if after is not None:
        query = query.where(after.rows_after(Event.created_at, Event.id))
    return session.scalars(query.order_by(Event.created_at, Event.id).limit(limit)).all()


def release(session: Session, event: Event, schema_valid: bool, validation_errors: list[Any]) -> None:
    """Hand a quarantined event to the fan-out, with the verdict of the schema as it is now."""
    event.fanout_state = FANOUT_PENDING
    event.fanout_after = None
    event.schema_valid = schema_valid
    event.validation_errors = validation_errors or None
