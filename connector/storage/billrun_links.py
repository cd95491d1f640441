"""BillRun connections and the webhooks the connector registered in them (no HTTP here).

A registration row exists for each ``(module, action)`` the connector keeps in a tenant's BillRun or
is removing from it. Its ``state`` is ``creating`` (wanted, not yet known to be in BillRun),
``registered`` (BillRun holds it, with the URL whose fingerprint is stored) or ``deleting`` (no
longer wanted, to be removed). Rows are deleted only once BillRun no longer holds the webhook.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from connector.storage.models import (
    BillrunConnection,
    BillrunRegistration,
    IngestToken,
    Subscription,
    SubscriptionEvent,
    utcnow,
)
from connector.storage.subscriptions import ACTIVE

CREATING = "creating"
REGISTERED = "registered"
DELETING = "deleting"

Pair = tuple[str, str]


def url_fingerprint(url: str) -> str:
    """What a registration remembers of the URL BillRun holds (the URL itself is a credential)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def get_connection(session: Session, tenant_id: int) -> BillrunConnection | None:
    return session.scalar(select(BillrunConnection).where(BillrunConnection.tenant_id == tenant_id))


def list_connection_ids(session: Session) -> list[int]:
    return list(session.scalars(select(BillrunConnection.id).order_by(BillrunConnection.id)))


def save_connection(
    session: Session,
    *,
    tenant_id: int,
    url: str,
    client_id: str,
    client_secret_encrypted: str,
    ingest_base_url: str,
    ingest_token_id: str,
    collection_steps: Sequence[str],
    webhook_id_prefix: str,
) -> BillrunConnection:
    """Create the tenant's connection, or replace its settings (its prefix and registrations stay)."""
    connection = get_connection(session, tenant_id)
    if connection is None:
        connection = BillrunConnection(tenant_id=tenant_id, webhook_id_prefix=webhook_id_prefix)
        session.add(connection)
    connection.url = url
    connection.client_id = client_id
    connection.client_secret_encrypted = client_secret_encrypted
    connection.ingest_base_url = ingest_base_url
    connection.ingest_token_id = ingest_token_id
    connection.collection_steps = list(dict.fromkeys(collection_steps))
    connection.last_error = None
    connection.disconnect_requested_at = None
    connection.updated_at = utcnow()
    session.flush()
    # Settings changed (credentials, steps, ingest URL): every row is due at once, failures forgotten.
    session.execute(
        update(BillrunRegistration)
        .where(BillrunRegistration.connection_id == connection.id)
        .values(next_try_at=utcnow(), attempts=0)
    )
    return connection


def delete_connection(session: Session, connection_id: int) -> None:
    """Forget a connection and its registrations."""
    connection = session.get(BillrunConnection, connection_id)
    if connection is not None:
        session.delete(connection)
        session.flush()


def active_ingest_token(session: Session, tenant_id: int, token_id: str | None = None) -> IngestToken | None:
    """The unrevoked ingest token *token_id* of the tenant, or (without an id) its newest unrevoked one."""
    query = select(IngestToken).where(IngestToken.tenant_id == tenant_id, IngestToken.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(IngestToken.id == token_id)
    return session.scalar(query.order_by(IngestToken.created_at.desc(), IngestToken.id.desc()).limit(1))


def subscribed_event_names(session: Session, tenant_id: int) -> set[str]:
    """Every event name (concrete, group or wildcard) some active subscription of the tenant has."""
    query = (
        select(SubscriptionEvent.event_type)
        .join(Subscription, Subscription.id == SubscriptionEvent.subscription_id)
        .where(SubscriptionEvent.tenant_id == tenant_id, Subscription.status == ACTIVE)
        .distinct()
    )
    return set(session.scalars(query))


def registrations(session: Session, connection_id: int) -> list[BillrunRegistration]:
    query = (
        select(BillrunRegistration)
        .where(BillrunRegistration.connection_id == connection_id)
        .order_by(BillrunRegistration.module, BillrunRegistration.action)
    )
    return list(session.scalars(query))


def plan(session: Session, connection_id: int, wanted: Iterable[Pair], webhook_id: Callable[[Pair], str]) -> None:
    """Align the rows with *wanted*: new pairs become ``creating`` rows (ids from *webhook_id*),
    pairs no longer wanted become ``deleting``, a ``deleting`` pair wanted again becomes ``creating``."""
    wanted_set = set(wanted)
    rows = {(row.module, row.action): row for row in registrations(session, connection_id)}
    now = utcnow()
    for pair in sorted(wanted_set - rows.keys()):
        session.add(
            BillrunRegistration(
                connection_id=connection_id,
                module=pair[0],
                action=pair[1],
                webhook_id=webhook_id(pair),
                state=CREATING,
                attempts=0,
                next_try_at=now,
            )
        )
    for pair, row in sorted(rows.items()):
        if pair in wanted_set and row.state == DELETING:
            _set_state(row, CREATING, now)
        elif pair not in wanted_set and row.state != DELETING:
            _set_state(row, DELETING, now)
    session.flush()


def request_disconnect(session: Session, connection_id: int) -> None:
    """From now on, passes remove every webhook of the connection and then forget it."""
    connection = session.get(BillrunConnection, connection_id)
    if connection is not None and connection.disconnect_requested_at is None:
        connection.disconnect_requested_at = utcnow()


def withdraw_all(session: Session, connection_id: int) -> None:
    """Mark every registration of the connection for removal (disconnect)."""
    now = utcnow()
    for row in registrations(session, connection_id):
        if row.state != DELETING:
            _set_state(row, DELETING, now)
    session.flush()


def _set_state(row: BillrunRegistration, state: str, now: datetime) -> None:
    row.state = state
    row.attempts = 0
    row.next_try_at = now
    row.last_error = None


def settled(registration: BillrunRegistration, url_fingerprint_now: str) -> bool:
    """Whether BillRun holds the webhook with the current ingest URL: nothing to do."""
    return registration.state == REGISTERED and registration.url_fingerprint == url_fingerprint_now


def due(registration: BillrunRegistration, url_fingerprint_now: str, now: datetime) -> bool:
    """Whether the row needs a call to BillRun now: not settled, and past its backoff."""
    return not settled(registration, url_fingerprint_now) and (
        registration.next_try_at is None or registration.next_try_at <= now
    )


def record_registered(session: Session, registration_id: int, fingerprint: str) -> None:
    row = session.get(BillrunRegistration, registration_id)
    if row is None or row.state == DELETING:  # withdrawn meanwhile: the next pass deletes it
        return
    row.state = REGISTERED
    row.url_fingerprint = fingerprint
    row.attempts = 0
    row.last_error = None
    row.next_try_at = None
    row.registered_at = utcnow()


def record_missing(session: Session, registration_id: int) -> None:
    """BillRun no longer holds a webhook it had (deleted behind the connector's back): create it again."""
    row = session.get(BillrunRegistration, registration_id)
    if row is not None and row.state == REGISTERED:
        _set_state(row, CREATING, utcnow())
        row.url_fingerprint = None
        row.last_error = "BillRun no longer had this webhook; registering it again"


def record_deleted(session: Session, registration_id: int) -> None:
    row = session.get(BillrunRegistration, registration_id)
    if row is not None and row.state == DELETING:
        session.delete(row)


def record_failure(session: Session, registration_id: int, error: str, backoff: Callable[[int], float]) -> None:
    """Count a failed call; the next try waits ``backoff(attempts)`` seconds."""
    row = session.get(BillrunRegistration, registration_id)
    if row is None:
        return
    row.attempts += 1
    row.last_error = error
    row.next_try_at = utcnow() + timedelta(seconds=backoff(row.attempts))


def record_pass(session: Session, connection_id: int, error: str | None, verified: bool = False) -> None:
    """The connection-level outcome of a reconcile pass."""
    connection = session.get(BillrunConnection, connection_id)
    if connection is None:
        return
    now = utcnow()
    connection.last_sync_at = now
    connection.last_error = error
    if verified:
        connection.last_verified_at = now


def claim(session: Session, connection_id: int, owner: str, seconds: float) -> bool:
    """Take the connection's lease (one reconciler at a time, across processes); ``False`` when held."""
    now = utcnow()
    result = session.execute(
        update(BillrunConnection)
        .where(
            BillrunConnection.id == connection_id,
            or_(
                BillrunConnection.lease_owner.is_(None),
                BillrunConnection.lease_owner == owner,
                BillrunConnection.lease_expires_at < now,
            ),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(session: Session, connection_id: int, owner: str) -> None:
    session.execute(
        update(BillrunConnection)
        .where(BillrunConnection.id == connection_id, BillrunConnection.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
