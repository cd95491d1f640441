"""Events: browse the log, one event's normalised payload with its schema verdict, samples per type."""

from __future__ import annotations

from flask import Response, flash, redirect, url_for

from connector.api import context
from connector.api.schemas import encode_cursor
from connector.console import forms, signin
from connector.console.blueprint import bp
from connector.console.forms import PAGE_SIZE
from connector.console.pages import page
from connector.services import event_log, quarantine
from connector.storage.models import Subscription

SAMPLES = 5


@bp.get("/events")
def events() -> tuple[str, int]:
    query = forms.query(forms.EventFilter())
    verdict = query.get("verdict")
    with context.session() as session:
        principal = signin.current()
        rows, more = event_log.page(
            session,
            principal,
            limit=PAGE_SIZE,
            before=query.get("cursor"),
            event_type=query.get("type"),
            schema_valid=None if verdict is None else verdict == "valid",
            waiting=query.get("state"),
            tenant_id=principal.tenant_id,
        )
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
        types = [entry.type for entry in context.runtime().catalog.types() if entry.kind == "event"]
        return page("console/events.html", rows=rows, query=query, next_cursor=next_cursor, types=types)


@bp.get("/events/<event_id>")
def event(event_id: str) -> tuple[str, int]:
    with context.session() as session:
        found, deliveries = event_log.detail(session, signin.current(), event_id)
        targets = {d.subscription_id: session.get(Subscription, d.subscription_id) for d in deliveries}
        entry = context.runtime().catalog.get(found.type)
        return page(
            "console/event.html",
            event=found,
            body=found.envelope(),
            deliveries=deliveries,
            targets=targets,
            entry=entry,
        )


@bp.post("/events/<event_id>/release")
def event_release(event_id: str) -> Response:
    """Hand a quarantined event to the fan-out: the operator's decision, whatever its verdict."""
    with context.session() as session:
        quarantine.release_one(context.runtime(), session, signin.current().scope, event_id)
    flash("Released from quarantine: it goes to its subscriptions now.", "info")
    return redirect(url_for("console.event", event_id=event_id), 303)  # type: ignore[return-value]


@bp.get("/samples")
def samples() -> tuple[str, int]:
    query = forms.query(forms.SamplesQuery())
    catalog = context.runtime().catalog
    chosen = query.get("type")
    with context.session() as session:
        found = event_log.samples(context.runtime(), session, signin.current(), chosen, SAMPLES) if chosen else []
        return page(
            "console/samples.html",
            entries=catalog.types(),
            chosen=chosen,
            entry=catalog.get(chosen) if chosen else None,
            samples=found,
        )
