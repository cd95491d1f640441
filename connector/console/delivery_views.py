"""The delivery log: filtered by status, type and subscription; one delivery with its body and every
attempt; retry one (not while an attempt is in flight); recover a subscription's failed ones."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, url_for

from connector.api import context
from connector.api.schemas import encode_cursor
from connector.console import forms, signin
from connector.console.blueprint import bp
from connector.console.forms import PAGE_SIZE
from connector.console.pages import page
from connector.services import deliveries as services
from connector.services import subscriptions as subscription_service
from connector.services.errors import Conflict
from connector.storage.deliveries import DELIVERY_STATUSES
from connector.storage.models import Subscription

MAX_TARGETS = 500  # subscriptions offered in the filter and recover menus


def _targets(session: Any) -> list[Subscription]:
    principal = signin.current()
    rows, _ = subscription_service.page(session, principal, limit=MAX_TARGETS, tenant_id=principal.tenant_id)
    return rows


@bp.get("/deliveries")
def deliveries() -> tuple[str, int]:
    query = forms.query(forms.DeliveryFilter())
    with context.session() as session:
        principal = signin.current()
        rows, more = services.log(
            session,
            principal,
            limit=PAGE_SIZE,
            before=query.get("cursor"),
            subscription_id=query.get("subscription"),
            status=query.get("status"),
            event_type=query.get("type"),
            tenant_id=principal.tenant_id,
        )
        next_cursor = encode_cursor(rows[-1][0].created_at, rows[-1][0].id) if more else None
        targets = _targets(session)
        return page(
            "console/deliveries.html",
            rows=rows,
            query=query,
            next_cursor=next_cursor,
            statuses=DELIVERY_STATUSES,
            targets=targets,
            target_urls={target.id: target.target_url for target in targets},
            types=[entry.type for entry in context.runtime().catalog.types() if entry.kind == "event"],
        )


def _delivery_page(session: Any, delivery_id: str, *, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    delivery, event, attempts = services.detail(session, signin.current(), delivery_id)
    subscription = session.get(Subscription, delivery.subscription_id)
    return page(
        "console/delivery.html",
        status,
        delivery=delivery,
        event=event,
        body=event.envelope(),
        attempts=attempts,
        subscription=subscription,
        problem=problem,
    )


@bp.get("/deliveries/<delivery_id>")
def delivery(delivery_id: str) -> tuple[str, int]:
    with context.session() as session:
        return _delivery_page(session, delivery_id)


@bp.post("/deliveries/<delivery_id>/retry")
def delivery_retry(delivery_id: str) -> Response | tuple[str, int]:
    """Due now; while an attempt is in flight the page says so with a 409 and nothing changes."""
    try:
        with context.session() as session:
            services.retry(context.runtime(), session, signin.current(), delivery_id)
    except Conflict as exc:
        with context.session() as session:
            return _delivery_page(session, delivery_id, problem=exc.message, status=409)
    flash("Retry queued: the delivery is due now (same event, same webhook-id).", "info")
    return redirect(url_for("console.delivery", delivery_id=delivery_id), 303)  # type: ignore[return-value]


@bp.post("/deliveries/recover")
def deliveries_recover() -> Response:
    values = forms.form(forms.RecoverForm())
    with context.session() as session:
        count = services.recover(context.runtime(), session, signin.current(), values["subscription"], values["since"])
    flash(f"{count} failed deliveries since {values['since']:%Y-%m-%d %H:%M} UTC queued again.", "info")
    target = url_for("console.deliveries", subscription=values["subscription"])
    return redirect(target, 303)  # type: ignore[return-value]
