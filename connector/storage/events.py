"""Reading stored events (samples). Events are written by the ingest path with their deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from connector.storage.models import Event


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
