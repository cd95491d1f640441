"""Writing a scenario's starting state in bulk, straight into the tables (Core inserts in large
transactions): tenants and ingest tokens, subscriptions, events, deliveries and attempts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select

from bench.config import SECRET_KEY
from connector import ids
from connector.billrun_wire import FORM_CONTENT_TYPE, encode_form
from connector.catalog import get_catalog
from connector.ingest_urls import INGEST_PATH, make_token
from connector.storage import Database, ingest_tokens, tenants
from connector.storage.models import Delivery, DeliveryAttempt, Event, Subscription, SubscriptionEvent, utcnow

CHUNK = 5000
EVENT_TYPE = "subscribers.update"  # what the bench ingests: BillRun's own sample, as a PHP form body


@dataclass(frozen=True)
class Ingest:
    """A tenant's ingest URL path and the BillRun body posted to it."""

    tenant_id: int
    token: str
    body: bytes
    headers: dict[str, str]

    @property
    def path(self) -> str:
        return INGEST_PATH + self.token


def billrun_body(event_type: str = EVENT_TYPE) -> bytes:
    """The first sample of *event_type* as BillRun's webhooks plugin posts it."""
    return encode_form(event_type, get_catalog().samples(event_type)[0]["data"])


def sample_data(event_type: str = EVENT_TYPE) -> dict[str, Any]:
    """The normalised payload of that sample: what an event stores and a delivery carries."""
    data: dict[str, Any] = get_catalog().samples(event_type)[0]["data"]
    return data


def tenant(database: Database, name: str = "bench") -> Ingest:
    """A tenant with an ingest URL."""
    with database.session() as session:
        owner = tenants.get_or_create_tenant(session, name)
        session.flush()
        token = ingest_tokens.create_ingest_token(session, owner, "billrun")
        tenant_id, token_id = owner.id, token.id
    return Ingest(tenant_id, make_token(SECRET_KEY, token_id), billrun_body(), {"Content-Type": FORM_CONTENT_TYPE})


def _insert(database: Database, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    with database.engine.begin() as connection:
        for chunk in _chunks(rows):
            connection.execute(table.insert(), chunk)


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Subscriber:
    id: str
    secret: str
    url: str


def subscriptions(
    database: Database, tenant_id: int, urls: Sequence[str], events: Sequence[str] = (EVENT_TYPE,)
) -> list[Subscriber]:
    """One active subscription per URL, to *events*, made a minute ago (before any event of the run)."""
    made = utcnow() - timedelta(minutes=1)
    subscribers = [Subscriber(ids.subscription_id(), ids.signing_secret(), url) for url in urls]
    rows = (
        {
            "id": s.id,
            "tenant_id": tenant_id,
            "target_url": s.url,
            "secret": s.secret,
            "status": "active",
            "created_via": "api",
            "created_at": made,
            "updated_at": made,
        }
        for s in subscribers
    )
    _insert(database, Subscription.__table__, rows)
    links = (
        {"subscription_id": s.id, "event_type": event, "tenant_id": tenant_id, "position": position}
        for s in subscribers
        for position, event in enumerate(events)
    )
    _insert(database, SubscriptionEvent.__table__, links)
    return subscribers


def events(
    database: Database,
    tenant_id: int,
    count: int,
    *,
    created_at: datetime,
    data: dict[str, Any],
    event_type: str = EVENT_TYPE,
    fanout_state: str = "done",
    spread: timedelta = timedelta(0),
) -> list[str]:
    """*count* events created from *created_at* on, *spread* apart (their ids, in order)."""
    made = [ids.event_id() for _ in range(count)]
    rows = (
        {
            "id": event_id,
            "tenant_id": tenant_id,
            "type": event_type,
            "timestamp": created_at + number * spread,
            "data": data,
            "source": "bench",
            "schema_valid": True,
            "fanout_state": fanout_state,
            "created_at": created_at + number * spread,
        }
        for number, event_id in enumerate(made)
    )
    _insert(database, Event.__table__, rows)
    return made


def deliveries(
    database: Database,
    tenant_id: int,
    pairs: Iterable[tuple[str, str]],
    *,
    status: str,
    at: datetime,
    next_attempt_at: datetime | None = None,
    with_attempt: bool = False,
) -> int:
    """One delivery per (event id, subscription id) in *status*, made at *at*; with *with_attempt*,
    each also gets the attempt that settled it. Returns how many."""
    written: list[str] = []
    pending = status == "pending"

    def rows() -> Iterator[dict[str, Any]]:
        for event_id, subscription_id in pairs:
            delivery_id = ids.delivery_id()
            written.append(delivery_id)
            yield {
                "id": delivery_id,
                "tenant_id": tenant_id,
                "event_id": event_id,
                "subscription_id": subscription_id,
                "status": status,
                "attempt_count": 0 if pending else 1,
                "next_attempt_at": (next_attempt_at or at) if pending else None,
                "last_status_code": None if pending else 200 if status == "succeeded" else 500,
                "created_at": at,
                "updated_at": at,
                "completed_at": None if pending else at,
            }

    _insert(database, Delivery.__table__, rows())
    if with_attempt:
        attempts = (
            {
                "delivery_id": delivery_id,
                "started_at": at,
                "duration_ms": 3,
                "status_code": 200,
                "response_excerpt": "ok",
            }
            for delivery_id in written
        )
        _insert(database, DeliveryAttempt.__table__, attempts)
    return len(written)


def count(database: Database, table: Table, *conditions: Any) -> int:
    """Rows of *table* matching *conditions*, in a read-only transaction."""
    with database.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0)
