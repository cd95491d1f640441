"""Storage: migrations match the models, engines, the subscription repository's matching."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, text

from connector.catalog import get_catalog
from connector.storage import Database, fanout, ingest_tokens, normalize_url, subscriptions, tenants, upgrade
from connector.storage.engine import CHECKPOINT_SECONDS
from connector.storage.migrate import current_revision, head_revision
from connector.storage.models import Base, utcnow


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    upgrade(database)
    yield database
    database.dispose()


def test_migrations_create_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert differences == []
    assert current_revision(db) == head_revision()
    upgrade(db)  # a second upgrade is a no-op
    assert current_revision(db) == head_revision()


def test_url_normalisation() -> None:
    assert normalize_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h:5433/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_sqlite_pragmas(tmp_path: object) -> None:
    database = Database(f"sqlite:///{tmp_path}/p.db")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    database.dispose()


def test_sqlite_log_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    """Commits leave their pages in the write-ahead log; a thread, not a later commit, copies them
    into the database file while the connections stay open."""
    path = tmp_path / "c.db"
    database = Database(f"sqlite:///{path}")
    try:
        with database.engine.begin() as connection:
            connection.execute(text("CREATE TABLE filler (body TEXT)"))
            connection.execute(text("INSERT INTO filler VALUES (:b)"), [{"b": "x" * 4000}] * 200)
        with database.engine.connect():  # a connection held open: no checkpoint on close
            size_after_commit = path.stat().st_size
            deadline = time.monotonic() + 10 * CHECKPOINT_SECONDS
            while path.stat().st_size <= size_after_commit and time.monotonic() < deadline:
                time.sleep(0.05)
            assert path.stat().st_size > size_after_commit + 200 * 4000
    finally:
        database.dispose()


def match(session: Any, tenant_id: int, keys: list[str] | tuple[str, ...], **when: Any) -> list[str]:
    """The subscriptions an event of *tenant_id* made now reaches (the fan-out's match)."""
    now = utcnow()
    return fanout.subscribers(
        session, tenant_id=tenant_id, keys=keys, **{"event_created_at": now, "now": now, "limit": 1000, **when}
    )


def test_matching_uses_keys_tenant_and_status(db: Database) -> None:
    with db.session() as session:
        acme = tenants.get_or_create_tenant(session, "acme")
        globex = tenants.get_or_create_tenant(session, "globex")
        exact = subscriptions.create_subscription(
            session, tenant_id=acme.id, events=["subscribers.update"], target_url="http://a"
        )
        group = subscriptions.create_subscription(
            session, tenant_id=acme.id, events=["subscribers.trackchanges", "subscribers.update"], target_url="http://b"
        )
        subscriptions.create_subscription(
            session, tenant_id=globex.id, events=["subscribers.update"], target_url="http://c"
        )
        off = subscriptions.create_subscription(
            session, tenant_id=acme.id, events=["subscribers.update"], target_url="http://d"
        )
        subscriptions.update_subscription(off, status="disabled")
        expired = subscriptions.create_subscription(
            session,
            tenant_id=acme.id,
            events=["subscribers.update"],
            target_url="http://e",
            expires_at=utcnow() + timedelta(minutes=1),
        )
        ids = (exact.id, group.id, acme.id, expired.id)
    with db.session() as session:
        found = match(session, ids[2], ["subscribers.update", "subscribers.trackchanges"])
        assert found == sorted([ids[0], ids[1], ids[3]])  # once each, in id order, no other tenant, no disabled
        assert match(session, ids[2], []) == []
        later = utcnow() + timedelta(minutes=2)
        assert match(session, ids[2], ["subscribers.update"], now=later) == sorted(ids[:2])  # expired
        before = utcnow() - timedelta(minutes=1)
        assert match(session, ids[2], ["subscribers.update"], event_created_at=before) == []  # made after the event
        assert match(session, ids[2], ["subscribers.update"], now=later, after=min(ids[:2]), limit=1) == [max(ids[:2])]


def test_matching_query_uses_the_tenant_event_index(tmp_path: object) -> None:
    """The plan of the very statement the matching function runs (captured as it runs)."""
    database = Database(f"sqlite:///{tmp_path}/plan.db")
    upgrade(database)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "subscription_events" in statement:
            statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    with database.session() as session:
        assert match(session, 1, ["a.b", "a.trackchanges"]) == []
    event.remove(database.engine, "before_cursor_execute", capture)
    ((statement, parameters),) = statements
    with database.engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    assert "ix_subscription_events_tenant_id_event_type" in " ".join(str(row) for row in plan)
    database.dispose()


def test_get_or_create_tenant_is_idempotent(db: Database) -> None:
    with db.session() as session:
        first = tenants.get_or_create_tenant(session, "acme").id
    with db.session() as session:
        assert tenants.get_or_create_tenant(session, "acme").id == first


def test_deleting_a_subscription_removes_its_event_rows(db: Database) -> None:
    with db.session() as session:
        tenant = tenants.get_or_create_tenant(session, "acme")
        sub = subscriptions.create_subscription(
            session, tenant_id=tenant.id, events=["a.b", "c.d"], target_url="http://x"
        )
        sub_id, tenant_id = sub.id, tenant.id
    with db.session() as session:
        assert subscriptions.get_subscription(session, sub_id, tenant_id + 1) is None
        subscriptions.delete_subscription(session, subscriptions.get_subscription(session, sub_id, tenant_id))
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM subscription_events")).scalar() == 0


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("subscribers.close", {"group", "exact_close", "all"}),
        ("subscribers.update", {"group", "all"}),
        ("accounts.update", {"all"}),
        ("collection.send_sms", {"module", "step", "all"}),
        ("collection.call_customer", {"module", "all"}),
        ("collection.in_collection", {"module", "all"}),
        ("accounts.nothing_known", {"all"}),
    ],
)
def test_catalog_keys_find_groups_modules_and_all(db: Database, event_type: str, expected: set[str]) -> None:
    subscribed = {
        "group": "subscribers.trackchanges",
        "exact_close": "subscribers.close",
        "module": "collection.*",
        "step": "collection.send_sms",
        "all": "*",
    }
    with db.session() as session:
        tenant = tenants.get_or_create_tenant(session, "acme")
        names = {
            subscriptions.create_subscription(
                session, tenant_id=tenant.id, events=[kind], target_url="http://x"
            ).id: name
            for name, kind in subscribed.items()
        }
        keys = get_catalog().subscription_keys(event_type)
        found = match(session, tenant.id, keys)
    assert {names[subscription_id] for subscription_id in found} == expected


def test_ingest_tokens_can_be_revoked(db: Database) -> None:
    with db.session() as session:
        tenant = tenants.get_or_create_tenant(session, "acme")
        token_id = ingest_tokens.create_ingest_token(session, tenant, source="billrun-prod").id
    with db.session() as session:
        (token,) = ingest_tokens.list_ingest_tokens(session, tenant.id)
        assert (token.id, token.tenant.name, token.source, token.revoked_at) == (token_id, "acme", "billrun-prod", None)
        assert ingest_tokens.list_ingest_tokens(session, tenant.id + 1) == []
        assert ingest_tokens.revoke_ingest_token(session, token_id) is not None
        assert ingest_tokens.revoke_ingest_token(session, "ing_missing") is None
    with db.session() as session:
        (token,) = ingest_tokens.list_ingest_tokens(session)
        assert token.revoked_at is not None


def test_api_keys_are_found_by_hash_and_not_after_revocation(db: Database) -> None:
    with db.session() as session:
        tenant = tenants.get_or_create_tenant(session, "acme")
        key, plaintext = tenants.create_api_key(session, tenant, label="zapier", admin=True)
        key_id = key.id
    with db.session() as session:
        found = tenants.find_active_key(session, plaintext)
        assert found is not None and found.id == key_id and found.is_admin and found.tenant.name == "acme"
        assert tenants.find_active_key(session, plaintext + "x") is None
        assert tenants.revoke_key(session, found.prefix) is not None  # by the shown prefix
    with db.session() as session:
        assert tenants.find_active_key(session, plaintext) is None
