"""The event log: browse stored events, read one with its schema verdict and deliveries, samples per type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from connector.services.errors import NotFound
from connector.services.principal import Principal
from connector.services.runtime import Runtime
from connector.storage import deliveries, events
from connector.storage.models import Delivery, Event
from connector.storage.subscriptions import Cursor


def page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    before: Cursor | None = None,
    event_type: str | None = None,
    schema_valid: bool | None = None,
    waiting: str | None = None,
    tenant_id: int | None = None,
) -> tuple[list[Event], bool]:
    """Up to *limit* events, newest first, and whether more follow; a tenant key sees its own tenant's,
    an admin key every tenant's or only *tenant_id*'s. *waiting* (``pending``, ``quarantined``) keeps
    those not yet fanned out to subscriptions."""
    rows = events.list_events(
        session,
        principal.within(tenant_id),
        event_type=event_type,
        schema_valid=schema_valid,
        waiting=waiting,
        limit=limit + 1,
        before=before,
    )
    return list(rows[:limit]), len(rows) > limit


def detail(session: Session, principal: Principal, event_id: str) -> tuple[Event, Sequence[Delivery]]:
    """An event the caller may see and each of its deliveries; NotFound otherwise."""
    event = events.get_event(session, event_id, principal.scope)
    if event is None:
        raise NotFound(f"no event {event_id!r}")
    return event, deliveries.deliveries_of_event(session, event.id)


def samples(runtime: Runtime, session: Session, principal: Principal, event_type: str, limit: int) -> list[Any]:
    """Up to *limit* sample deliveries of a subscription name, newest first, as they are delivered.

    The tenant's most recent stored events of that name (the member types of a ``trackchanges``
    group, any action of ``<module>.*``, any type of ``*``) when there are any, else the samples of
    the schema (what Zapier's and n8n's test steps show before the first real event).
    """
    catalog = runtime.catalog
    entry = catalog.get(event_type)
    if entry is None:
        raise NotFound(f"unknown event type {event_type!r}")
    selection: dict[str, Any] = {"types": (event_type,)}
    if entry.kind == "group":
        selection = {"types": tuple(entry.expands_to)}
    elif event_type == entry.type and entry.kind == "module":
        selection = {"type_prefix": f"{entry.module}."}
    elif entry.kind == "all":
        selection = {"type_prefix": ""}
    rows = events.recent_events(session, principal.tenant_id, limit=limit, **selection)
    return [row.envelope() for row in rows] or catalog.samples(event_type)[:limit]
