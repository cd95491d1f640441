"""Subscriptions: subscribe, change, unsubscribe, rotate the secret; who may see which.

The REST hooks API, BillRun's plugin API, the command line and the console all come through here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from connector.services.errors import Conflict, Gone, Invalid, NotFound
from connector.services.principal import Principal
from connector.services.runtime import Runtime
from connector.services.tenants import tenant_for
from connector.storage import subscriptions
from connector.storage.models import Subscription, utcnow
from connector.storage.subscriptions import ACTIVE

MAX_EXPIRES_IN = 86_400
MIN_EXPIRES_IN = 60


def owned(session: Session, principal: Principal, subscription_id: str) -> Subscription:
    """The subscription if the caller may see it.

    Gone when it was the caller's tenant's and has been removed; NotFound otherwise, so another
    tenant's existence does not leak.
    """
    subscription = subscriptions.get_subscription(session, subscription_id, principal.scope)
    if subscription is not None:
        return subscription
    removed = subscriptions.find_removed(session, subscription_id, principal.scope)
    if removed is not None:
        raise Gone(
            f"subscription {subscription_id!r} was already removed ({removed.reason}) "
            f"at {removed.removed_at:%Y-%m-%dT%H:%M:%SZ}"
        )
    raise NotFound(f"no subscription {subscription_id!r} for this API key's tenant")


def owned_webhook(session: Session, principal: Principal, webhook_id: str) -> Subscription:
    """The subscription a plugin API client names *webhook_id* (its own id, or the subscription id)."""
    subscription = subscriptions.get_by_webhook_id(session, webhook_id, principal.tenant_id, principal.scope)
    if subscription is None:
        raise NotFound(f"no webhook with id {webhook_id!r}")
    return subscription


def page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    after: subscriptions.Cursor | None = None,
    event_type: str | None = None,
    target_url: str | None = None,
    status: str | None = None,
    target_contains: str | None = None,
    tenant_id: int | None = None,
) -> tuple[list[Subscription], bool]:
    """Up to *limit* of the caller's subscriptions after the cursor, and whether more follow.

    An admin key sees every tenant's, or only *tenant_id*'s when given; a tenant key its own.
    """
    rows = subscriptions.list_subscriptions(
        session,
        principal.within(tenant_id),
        limit=limit + 1,
        after=after,
        event_type=event_type,
        target_url=target_url,
        status=status,
        target_contains=target_contains,
    )
    return rows[:limit], len(rows) > limit


def require_active(subscription: Subscription) -> None:
    """Sending to a disabled subscription is refused until it is re-enabled."""
    if subscription.status != ACTIVE:
        raise Conflict(
            f"subscription {subscription.id!r} is disabled ({subscription.disabled_reason}); re-enable it first"
        )


def subscribe(
    session: Session,
    principal: Principal,
    *,
    events: Sequence[str],
    target_url: str,
    tenant: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    created_via: str = "api",
    webhook_id: str | None = None,
    expires_in: int | None = None,
) -> Subscription:
    """A new active subscription of *target_url* (already validated) to *events*; with *expires_in*
    (seconds), one that the worker removes once that time has passed."""
    expires_at = None
    if expires_in is not None:
        if not MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN:
            raise Invalid(
                f"expires_in must be {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN} seconds, not {expires_in}",
                {"expires_in": [f"between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} seconds"]},
            )
        expires_at = utcnow() + timedelta(seconds=expires_in)
    try:
        subscription = subscriptions.create_subscription(
            session,
            tenant_id=tenant_for(session, principal, tenant).id,
            events=events,
            target_url=target_url,
            description=description,
            metadata=metadata,
            created_via=created_via,
            webhook_id=webhook_id,
            expires_at=expires_at,
        )
    except subscriptions.DuplicateWebhookId:
        raise Conflict(f"this tenant already has a webhook with id {webhook_id!r}") from None
    session.flush()
    session.refresh(subscription)
    return subscription


def change(
    session: Session,
    subscription: Subscription,
    *,
    events: Sequence[str] | None = None,
    target_url: str | None = None,
    status: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> Subscription:
    """Change the given fields of a subscription the caller owns."""
    subscriptions.update_subscription(
        subscription, events=events, target_url=target_url, status=status, changes=changes
    )
    session.flush()
    return subscription


def unsubscribe(session: Session, subscription: Subscription) -> None:
    """Remove the subscription; its pending deliveries go with it."""
    subscriptions.delete_subscription(session, subscription)


def rotate_secret(runtime: Runtime, session: Session, subscription: Subscription) -> Subscription:
    """A new signing secret; the previous one signs too during the rotation grace period."""
    subscriptions.rotate_secret(subscription, runtime.settings.rotation_grace_seconds)
    session.flush()
    return subscription
