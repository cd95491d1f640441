"""Subscriptions: the one repository behind both the plugin API and the REST hooks API.

Subscriptions are never merged: two with the same URL and events are two rows, deleted by id only.
``tenant_id=None`` in a lookup means "any tenant" (admin keys); callers decide who may pass it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import ids
from connector.storage.models import RemovedSubscription, Subscription, SubscriptionEvent, utcnow
from connector.storage.tenants import get_in_scope

ACTIVE = "active"
DISABLED = "disabled"
STATUSES = (ACTIVE, DISABLED)
# Why a subscription was removed (kept in ``removed_subscriptions``).
UNSUBSCRIBED = "unsubscribed"
EXPIRED = "expired"


class DuplicateWebhookId(Exception):
    """The tenant already has a subscription with this client-given webhook id."""


@dataclass(frozen=True)
class Cursor:
    """Position after the last row of a page, in (created_at, id) order.

    Its conditions are row values, ``(created_at, id) > (x, y)``: SQLite and PostgreSQL start their
    index range there. Spelled ``created_at > x OR (created_at = x AND id > y)``, SQLite walked the
    index from the other end (seen in the purge, which reads its batches the same way).
    """

    created_at: datetime
    id: str

    def rows_after(self, created_at: Any, id_: Any) -> ColumnElement[bool]:
        """The rows whose (*created_at*, *id_*) comes after this position."""
        return tuple_(created_at, id_) > tuple_(self.created_at, self.id)

    def rows_before(self, created_at: Any, id_: Any) -> ColumnElement[bool]:
        """The rows whose (*created_at*, *id_*) comes before this position (pages newest first)."""
        return tuple_(created_at, id_) < tuple_(self.created_at, self.id)


def _set_events(subscription: Subscription, events: Sequence[str]) -> None:
    unique = list(dict.fromkeys(events))
    subscription.event_rows = [
        SubscriptionEvent(event_type=event_type, tenant_id=subscription.tenant_id, position=position)
        for position, event_type in enumerate(unique)
    ]


def create_subscription(
    session: Session,
    *,
    tenant_id: int,
    events: Sequence[str],
    target_url: str,
    description: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    created_via: str = "api",
    webhook_id: str | None = None,
    expires_at: datetime | None = None,
) -> Subscription:
    """Insert a new active subscription with a fresh signing secret.

    *webhook_id* is a plugin API client's own id for it; raises :class:`DuplicateWebhookId` when the
    tenant already uses it (other tenants' ids are theirs: they neither collide nor show).
    *expires_at* makes it short-lived: see :func:`remove_expired`.
    """
    now = utcnow()
    subscription = Subscription(
        id=ids.subscription_id(),
        webhook_id=webhook_id,
        tenant_id=tenant_id,
        target_url=target_url,
        description=description,
        metadata_=dict(metadata) if metadata is not None else None,
        secret=ids.signing_secret(),
        status=ACTIVE,
        created_via=created_via,
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    _set_events(subscription, events)
    try:
        with session.begin_nested():
            session.add(subscription)
    except IntegrityError:
        raise DuplicateWebhookId(webhook_id) from None
    return subscription


def get_subscription(session: Session, subscription_id: str, tenant_id: int | None) -> Subscription | None:
    """The subscription *subscription_id*, if it belongs to *tenant_id* (any tenant when ``None``)."""
    return get_in_scope(session, Subscription, subscription_id, tenant_id)


def get_by_webhook_id(session: Session, webhook_id: str, tenant_id: int, scope: int | None) -> Subscription | None:
    """The subscription a plugin API client names *webhook_id*: the one *tenant_id* gave that id;
    else, with every tenant in *scope* (``None``, an admin), the only one any tenant gave that id;
    else the subscription with that id within *scope*."""
    named = select(Subscription).where(Subscription.webhook_id == webhook_id)
    own = session.scalar(named.where(Subscription.tenant_id == tenant_id))
    if own is not None:
        return own
    if scope is None:
        anyone = session.scalars(named.limit(2)).all()
        if len(anyone) == 1:
            return anyone[0]
    return get_subscription(session, webhook_id, scope)


def list_subscriptions(
    session: Session,
    tenant_id: int | None,
    *,
    limit: int,
    after: Cursor | None = None,
    event_type: str | None = None,
    target_url: str | None = None,
    status: str | None = None,
    target_contains: str | None = None,
) -> list[Subscription]:
    """Up to *limit* subscriptions in creation order, starting after *after*; each filter given
    narrows the list (subscribed to exactly *event_type*, posting to exactly *target_url*, in
    *status*, target URL containing a text)."""
    query = select(Subscription).order_by(Subscription.created_at, Subscription.id).limit(limit)
    if tenant_id is not None:
        query = query.where(Subscription.tenant_id == tenant_id)
    if after is not None:
        query = query.where(after.rows_after(Subscription.created_at, Subscription.id))
    if event_type is not None:
        query = query.where(
            Subscription.id.in_(
                select(SubscriptionEvent.subscription_id).where(SubscriptionEvent.event_type == event_type)
            )
        )
    if target_url is not None:
        query = query.where(Subscription.target_url == target_url)
    if status is not None:
        query = query.where(Subscription.status == status)
    if target_contains:
        query = query.where(Subscription.target_url.contains(target_contains, autoescape=True))
    return list(session.scalars(query).all())


def troubled_subscriptions(session: Session, tenant_id: int | None, limit: int = 50) -> list[Subscription]:
    """Subscriptions that are disabled or failing right now, the most recently changed first."""
    query = (
        select(Subscription)
        .where(or_(Subscription.status == DISABLED, Subscription.failing_since.is_not(None)))
        .order_by(Subscription.updated_at.desc(), Subscription.id)
        .limit(limit)
    )
    if tenant_id is not None:
        query = query.where(Subscription.tenant_id == tenant_id)
    return list(session.scalars(query).all())


def update_subscription(
    subscription: Subscription,
    *,
    events: Sequence[str] | None = None,
    target_url: str | None = None,
    status: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> Subscription:
    """Change the given fields; *changes* may set ``description`` and ``metadata`` (also to ``None``).

    Re-activating clears the disabled reason and the failure record.
    """
    if events is not None:
        _set_events(subscription, events)
    if target_url is not None:
        subscription.target_url = target_url
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if status == ACTIVE:
            subscription.disabled_reason = None
            subscription.failing_since = None
        elif subscription.status != DISABLED:
            subscription.disabled_reason = "manual"
        subscription.status = status
    for name, value in (changes or {}).items():
        if name == "description":
            subscription.description = value
        elif name == "metadata":
            subscription.metadata_ = dict(value) if value is not None else None
        else:
            raise ValueError(f"cannot change {name!r}")
    subscription.updated_at = utcnow()
    return subscription


def delete_subscription(session: Session, subscription: Subscription, reason: str = UNSUBSCRIBED) -> None:
    """Delete exactly this subscription (its deliveries and their attempts go with it), keeping a
    record of its removal for its tenant."""
    session.add(RemovedSubscription(id=subscription.id, tenant_id=subscription.tenant_id, reason=reason))
    session.delete(subscription)
    session.flush()


def lock_subscription(session: Session, subscription_id: str) -> bool:
    """Lock the subscription's row until the transaction ends (``FOR UPDATE``; SQLite's write lock is
    held already); False when it is gone."""
    query = select(Subscription.id).where(Subscription.id == subscription_id).with_for_update()
    return session.scalar(query) is not None


def find_removed(session: Session, subscription_id: str, tenant_id: int | None) -> RemovedSubscription | None:
    """The record of a removed subscription of *tenant_id* (any tenant when ``None``)."""
    return get_in_scope(session, RemovedSubscription, subscription_id, tenant_id)


def any_expired(session: Session, now: datetime | None = None) -> bool:
    """Whether some subscription's expiry has passed (a read, through the ``expires_at`` index)."""
    query = select(Subscription.id).where(Subscription.expires_at <= (now or utcnow())).limit(1)
    return session.scalar(query) is not None


def remove_expired(session: Session, now: datetime | None = None, limit: int = 100) -> int:
    """Delete up to *limit* subscriptions whose expiry has passed; returns how many."""
    now = now or utcnow()
    query = select(Subscription).where(Subscription.expires_at <= now).order_by(Subscription.expires_at).limit(limit)
    expired = list(session.scalars(query))
    for subscription in expired:
        delete_subscription(session, subscription, EXPIRED)
    return len(expired)


def forget_removed(session: Session, older_than: datetime) -> int:
    """Drop the records of subscriptions removed before *older_than*."""
    result = session.execute(delete(RemovedSubscription).where(RemovedSubscription.removed_at < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def rotate_secret(subscription: Subscription, grace_seconds: int, now: datetime | None = None) -> str:
    """Give *subscription* a new secret; the old one stays valid for *grace_seconds*."""
    now = now or utcnow()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + timedelta(seconds=grace_seconds)
    subscription.secret = ids.signing_secret()
    subscription.secret_rotated_at = now
    subscription.updated_at = now
    return subscription.secret


def valid_secrets(subscription: Subscription, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with now: the current one, plus the previous during its grace."""
    now = now or utcnow()
    secrets = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > now:
        secrets.append(subscription.previous_secret)
    return secrets
