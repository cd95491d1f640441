"""Subscriptions: the filtered list, create (with the catalog's event picker), and one subscription's
page: pause, resume, rotate the secret (shown once), send a test event, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, flash, redirect, url_for
from marshmallow import ValidationError

from connector.api import context
from connector.api.schemas import HookCreateSchema, encode_cursor
from connector.catalog import Catalog, EventType
from connector.console import forms, signin
from connector.console.blueprint import bp
from connector.console.forms import PAGE_SIZE
from connector.console.pages import page
from connector.services import deliveries as delivery_service
from connector.services import subscriptions as services
from connector.storage.models import Subscription
from connector.storage.subscriptions import ACTIVE, DISABLED

RECENT_DELIVERIES = 20
_KIND_ORDER = {"all": 0, "module": 1, "group": 2, "event": 3}


@dataclass(frozen=True)
class PickerGroup:
    id: str
    title: str
    entries: list[EventType]


def picker(catalog: Catalog) -> list[PickerGroup]:
    """The catalog by group, each module's ``<module>.*`` and trackchanges group before its types."""
    modules = {module: index for index, module in enumerate(catalog.modules())}
    groups = []
    for group in catalog.document["groups"]:
        entries = [entry for entry in catalog.types() if entry.group == group["id"]]
        entries.sort(key=lambda entry: (modules.get(entry.module, -1), _KIND_ORDER.get(entry.kind, 9)))
        if entries:
            groups.append(PickerGroup(group["id"], group["title"], entries))
    return groups


def _new_form(status: int = 200, values: dict[str, Any] | None = None, errors: Any = None) -> tuple[str, int]:
    catalog = context.runtime().catalog
    return page(
        "console/subscription_new.html",
        status,
        groups=picker(catalog),
        values=values or {},
        errors=errors or {},
    )


@bp.get("/subscriptions")
def subscriptions() -> tuple[str, int]:
    query = forms.query(forms.SubscriptionFilter())
    with context.session() as session:
        principal = signin.current()
        rows, more = services.page(
            session,
            principal,
            limit=PAGE_SIZE,
            after=query.get("cursor"),
            event_type=query.get("event"),
            status=query.get("status"),
            target_contains=query.get("q"),
            tenant_id=principal.tenant_id,
        )
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
        return page(
            "console/subscriptions.html",
            rows=rows,
            query=query,
            next_cursor=next_cursor,
            names=[entry.type for entry in context.runtime().catalog.types()],
        )


@bp.get("/subscriptions/new")
def subscription_new() -> tuple[str, int]:
    return _new_form()


@bp.post("/subscriptions")
def subscription_create() -> tuple[str, int]:
    sent = forms.raw(("target_url", "events", "other_events", "description"))
    events = sent.get("events", [])
    events = [events] if isinstance(events, str) else list(events)
    events += [name.strip() for name in str(sent.get("other_events", "")).split(",") if name.strip()]
    body: dict[str, Any] = {"target_url": sent.get("target_url", "")}
    if events:
        body["events"] = events
    if sent.get("description"):
        body["description"] = sent["description"]
    try:
        values = HookCreateSchema().load(body)
    except ValidationError as exc:
        return _new_form(400, {**sent, "events": events}, forms.FormInvalid(forms.flat(exc.messages)).errors)
    with context.session() as session:
        subscription = services.subscribe(
            session,
            signin.current(),
            events=values["events"],
            target_url=values["target_url"],
            description=values.get("description"),
            created_via="console",
        )
        return _subscription_page(session, subscription, secret=subscription.secret, status=201)


def _subscription_page(
    session: Any, subscription: Subscription, *, secret: str | None = None, status: int = 200
) -> tuple[str, int]:
    principal = signin.current()
    recent, _ = delivery_service.log(
        session, principal, subscription_id=subscription.id, limit=RECENT_DELIVERIES, tenant_id=subscription.tenant_id
    )
    catalog = context.runtime().catalog
    test_types = sorted(
        {sample["type"] for name in subscription.events for sample in catalog.samples(name) if "type" in sample}
    )
    return page(
        "console/subscription.html",
        status,
        subscription=subscription,
        secret=secret,
        recent=recent,
        test_types=[name for name in test_types if catalog.deliverable(name)],
    )


@bp.get("/subscriptions/<subscription_id>")
def subscription(subscription_id: str) -> tuple[str, int]:
    with context.session() as session:
        return _subscription_page(session, services.owned(session, signin.current(), subscription_id))


def _set_status(subscription_id: str, status: str, done: str) -> Response:
    with context.session() as session:
        services.change(session, services.owned(session, signin.current(), subscription_id), status=status)
    flash(done, "info")
    return redirect(url_for("console.subscription", subscription_id=subscription_id), 303)  # type: ignore[return-value]


@bp.post("/subscriptions/<subscription_id>/pause")
def subscription_pause(subscription_id: str) -> Response:
    return _set_status(subscription_id, DISABLED, "Paused: no deliveries are sent until it is resumed.")


@bp.post("/subscriptions/<subscription_id>/resume")
def subscription_resume(subscription_id: str) -> Response:
    return _set_status(subscription_id, ACTIVE, "Resumed: deliveries are sent again.")


@bp.post("/subscriptions/<subscription_id>/rotate-secret")
def subscription_rotate(subscription_id: str) -> tuple[str, int]:
    with context.session() as session:
        subscription = services.owned(session, signin.current(), subscription_id)
        services.rotate_secret(context.runtime(), session, subscription)
        return _subscription_page(session, subscription, secret=subscription.secret)


@bp.post("/subscriptions/<subscription_id>/test")
def subscription_test(subscription_id: str) -> Response:
    values = forms.form(forms.TestSendForm())
    with context.session() as session:
        stored = delivery_service.send_test(
            context.runtime(), session, signin.current(), subscription_id, values.get("type")
        )
        event_id, event_type = stored.event.id, stored.event.type
    flash(f"Test event {event_id} ({event_type}) queued for this subscription.", "info")
    return redirect(url_for("console.subscription", subscription_id=subscription_id), 303)  # type: ignore[return-value]


@bp.post("/subscriptions/<subscription_id>/delete")
def subscription_delete(subscription_id: str) -> Response:
    with context.session() as session:
        services.unsubscribe(session, services.owned(session, signin.current(), subscription_id))
    flash(f"Subscription {subscription_id} deleted, with its pending deliveries.", "info")
    return redirect(url_for("console.subscriptions"), 303)  # type: ignore[return-value]
