"""The delivery log's use cases: publish an event, send a test, retry one delivery, recover many."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from connector.services.errors import Conflict, Invalid, NotFound
from connector.services.events import Verdict, accept_event, after_commit, assess
from connector.services.principal import Principal
from connector.services.runtime import Runtime
from connector.services.subscriptions import owned, require_active
from connector.storage import deliveries
from connector.storage.events import StoredEvent
from connector.storage.models import Delivery, DeliveryAttempt, Event, Subscription
from connector.storage.subscriptions import Cursor


def publish(
    runtime: Runtime,
    session: Session,
    principal: Principal,
    *,
    event_type: str,
    data: Any,
    timestamp: datetime | None = None,
    client_event_id: str | None = None,
) -> StoredEvent:
    """An integrator's event, filed under the key's tenant; idempotent on *client_event_id*."""
    return accept_event(
        runtime,
        session,
        tenant_id=principal.tenant_id,
        event_type=event_type,
        data=data,
        path="api",
        source="api",
        verdict=assess(runtime, event_type, data),
        timestamp=timestamp,
        client_event_id=client_event_id,
    )


def _test_type(runtime: Runtime, subscription: Subscription, requested: str | None) -> str:
    catalog = runtime.catalog
    if requested is not None:
        if not set(catalog.subscription_keys(requested)) & set(subscription.events):
            raise Invalid(f"subscription {subscription.id!r} does not receive {requested!r}")
        return requested
    for name in subscription.events:
        for sample in catalog.samples(name):
            if catalog.deliverable(sample.get("type", "")):
                return str(sample["type"])
    raise Invalid(f"no sample for the event types of {subscription.id!r}")


def send_test(
    runtime: Runtime, session: Session, principal: Principal, subscription_id: str, event_type: str | None
) -> StoredEvent:
    """A sample of one of the subscription's types, delivered to that subscription only."""
    subscription = owned(session, principal, subscription_id)
    require_active(subscription)
    chosen = _test_type(runtime, subscription, event_type)
    return accept_event(
        runtime,
        session,
        tenant_id=subscription.tenant_id,
        event_type=chosen,
        data=runtime.catalog.samples(chosen)[0]["data"],
        path="test",
        source="test",
        verdict=Verdict([], []),
        only_subscription_id=subscription.id,
    )


def owned_delivery(session: Session, principal: Principal, delivery_id: str) -> tuple[Delivery, Event]:
    """A delivery the caller may see, with its event; NotFound otherwise."""
    delivery = deliveries.get_delivery(session, delivery_id, principal.scope)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    event = session.get(Event, delivery.event_id)
    assert event is not None  # a delivery's event is deleted only with it
    return delivery, event


def page(
    session: Session,
    principal: Principal,
    subscription_id: str,
    *,
    status: str | None,
    limit: int,
    before: Cursor | None,
) -> tuple[list[tuple[Delivery, Event]], bool]:
    """Up to *limit* of a subscription's deliveries, newest first, and whether more follow."""
    owned(session, principal, subscription_id)
    return log(session, principal, subscription_id=subscription_id, status=status, limit=limit, before=before)


def log(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    before: Cursor | None = None,
    subscription_id: str | None = None,
    status: str | None = None,
    event_type: str | None = None,
    tenant_id: int | None = None,
) -> tuple[list[tuple[Delivery, Event]], bool]:
    """The delivery log, newest first, filtered by subscription, status and event type, and whether
    more follow; a tenant key sees its own tenant's, an admin key every tenant's or only *tenant_id*'s."""
    rows = deliveries.list_deliveries(
        session,
        subscription_id,
        tenant_id=principal.within(tenant_id),
        status=status,
        event_type=event_type,
        limit=limit + 1,
        before=before,
    )
    return rows[:limit], len(rows) > limit


def detail(session: Session, principal: Principal, delivery_id: str) -> tuple[Delivery, Event, list[DeliveryAttempt]]:
    """A delivery, its event and every attempt of it, oldest first."""
    delivery, event = owned_delivery(session, principal, delivery_id)
    return delivery, event, list(deliveries.attempts_of(session, delivery.id))


def retry(runtime: Runtime, session: Session, principal: Principal, delivery_id: str) -> tuple[Delivery, Event]:
    """Make one delivery due now, whatever its status, unless an attempt of it is in flight."""
    delivery, event = owned_delivery(session, principal, delivery_id)
    subscription = session.get(Subscription, delivery.subscription_id)
    assert subscription is not None
    require_active(subscription)
    if not deliveries.requeue(session, delivery.id):
        raise Conflict(
            f"delivery {delivery.id!r} is being attempted right now; retry it once that attempt has ended "
            f"(at the latest when its lease ends at {delivery.lease_expires_at:%Y-%m-%dT%H:%M:%SZ})"
        )
    session.refresh(delivery)
    after_commit(session, runtime.work_due)
    return delivery, event


def recover(runtime: Runtime, session: Session, principal: Principal, subscription_id: str, since: datetime) -> int:
    """Re-queue every failed delivery of the subscription created at or after *since*."""
    subscription = owned(session, principal, subscription_id)
    require_active(subscription)
    count = deliveries.recover(session, subscription.id, since)
    if count:
        after_commit(session, runtime.work_due)
    return count
