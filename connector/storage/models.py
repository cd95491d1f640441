"""SQLAlchemy 2 models of every table (docs/architecture.md, "Storage model").

All times are timezone-aware UTC datetimes. The Alembic migrations in ``migrations/versions`` create
exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from connector.envelopes import envelope

ID = String(64)
# An event type <module>.<action>: a module name of up to 100 characters and an action (a free-text
# collection step name) of up to 255. SQLite does not enforce lengths, so only PostgreSQL's columns
# were widened (migration 0010); the SQLite declarations stay as they were made.
TYPE_NAME = String(200).with_variant(String(356), "postgresql")
ACTION_NAME = String(200).with_variant(String(255), "postgresql")
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class IngestToken(Base):
    __tablename__ = "ingest_tokens"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    target_url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON, default=None)
    secret: Mapped[str] = mapped_column(String(128))
    previous_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    failing_since: Mapped[datetime | None] = mapped_column(default=None)
    created_via: Mapped[str] = mapped_column(String(16), default="api")
    # The id a plugin API client chose (BillRun's webhook_id): the tenant's own, unique per tenant.
    webhook_id: Mapped[str | None] = mapped_column(String(64), default=None)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    # A short-lived subscription (a test listener) is removed by the worker once this has passed.
    expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")
    event_rows: Mapped[list[SubscriptionEvent]] = relationship(
        back_populates="subscription",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="SubscriptionEvent.position",
    )

    __table_args__ = (
        Index("ix_subscriptions_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        UniqueConstraint("tenant_id", "webhook_id"),
    )

    @property
    def events(self) -> list[str]:
        """The subscribed event types, in the order they were given."""
        return [row.event_type for row in self.event_rows]


class RemovedSubscription(Base):
    """What is left of a removed subscription: enough to answer 410 Gone rather than 404 to its tenant."""

    __tablename__ = "removed_subscriptions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(64))
    removed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SubscriptionEvent(Base):
    """One subscribed event type of a subscription (as subscribed: concrete, group or family)."""

    __tablename__ = "subscription_events"

    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True)
    event_type: Mapped[str] = mapped_column(TYPE_NAME, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    subscription: Mapped[Subscription] = relationship(back_populates="event_rows")

    __table_args__ = (Index("ix_subscription_events_tenant_id_event_type", "tenant_id", "event_type"),)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(TYPE_NAME)
    timestamp: Mapped[datetime] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200), default="")
    client_event_id: Mapped[str | None] = mapped_column(String(200), default=None)
    schema_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    validation_errors: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    # pending: its deliveries are still to be made (the worker fans it out after the ingest);
    # done: they are made; quarantined: strict schemas kept it back until an operator releases it.
    fanout_state: Mapped[str] = mapped_column(String(16), default="pending", server_default="done")
    # The last subscription id a partial fan-out reached: the next chunk starts after it.
    fanout_after: Mapped[str | None] = mapped_column(ID, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_events_tenant_id_type_created_at", "tenant_id", "type", "created_at"),
        # The event log's pages: a tenant's events newest first from a (created_at, id) position.
        Index("ix_events_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_events_created_at", "created_at", "id"),
        # Only events not yet fanned out are in it: the worker's and the quarantine's lookups.
        # Queries name the condition too (``WAITING``): SQLite uses a partial index only then.
        Index(
            "ix_events_fanout_state_created_at_id",
            "fanout_state",
            "created_at",
            "id",
            sqlite_where=text("fanout_state != 'done'"),
            postgresql_where=text("fanout_state != 'done'"),
        ),
        UniqueConstraint("tenant_id", "client_event_id"),
    )

    def envelope(self) -> dict[str, Any]:
        """The delivery body of this event: ``{id, type, timestamp, data}``."""
        return envelope(self.id, self.type, self.timestamp, self.data)


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # The delivery log's pages: a tenant's, or a subscription's, deliveries newest first from a
        # (created_at, id) position.
        Index("ix_deliveries_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        Index("ix_deliveries_subscription_id_created_at_id", "subscription_id", "created_at", "id"),
        # One delivery per event and subscription, whatever a fan-out that is resumed after a crash does.
        Index("ix_deliveries_event_id_subscription_id", "event_id", "subscription_id", unique=True),
    )


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    response_excerpt: Mapped[str | None] = mapped_column(Text, default=None)
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)


class BillrunConnection(Base):
    """A tenant's BillRun: where it is, the OAuth2 client the connector uses, what it registers."""

    __tablename__ = "billrun_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    # Every webhook id this connection chooses starts with it: unique per connection, stable across retries.
    webhook_id_prefix: Mapped[str] = mapped_column(String(32), unique=True)
    ingest_base_url: Mapped[str] = mapped_column(Text)
    ingest_token_id: Mapped[str | None] = mapped_column(
        ForeignKey("ingest_tokens.id", ondelete="SET NULL"), default=None
    )
    collection_steps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    last_sync_at: Mapped[datetime | None] = mapped_column(default=None)
    last_verified_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Set by disconnect: passes remove every webhook, then forget the connection.
    disconnect_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    tenant: Mapped[Tenant] = relationship(lazy="joined")


class BillrunRegistration(Base):
    """One webhook the connector keeps (or is removing) in a tenant's BillRun, for one (module, action)."""

    __tablename__ = "billrun_registrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("billrun_connections.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(ACTION_NAME)
    webhook_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # creating | registered | deleting
    # SHA-256 of the URL BillRun holds for it (None until created): a new ingest URL means an update.
    url_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    registered_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("connection_id", "module", "action"),
        UniqueConstraint("connection_id", "webhook_id"),
    )
