"""The ingest's write on the driver's connection stores exactly what the ORM path stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from connector.storage import Database, events, ingest_tokens
from connector.storage.ingest_write import IngestWriter
from connector.storage.models import Event, Tenant
from connector.storage.tenants import get_or_create_tenant

DATA = {"after": {"aid": 7, "name": "Ann ☃", "tags": ["a", "b"], "ok": True, "price": 1.5, "nothing": None}}
MOMENT = datetime(2024, 1, 31, 12, 30, 45, 123456, tzinfo=UTC)


@pytest.fixture
def token(db: Database) -> tuple[int, str]:
    with db.session() as s:
        tenant = get_or_create_tenant(s, "acme")
        return tenant.id, ingest_tokens.create_ingest_token(s, tenant, "crm-prod").id


def raw_row(db: Database, event_id: str) -> dict[str, Any]:
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM events WHERE id = :id"), {"id": event_id}).mappings().one()
        return dict(row)


def test_a_written_event_is_stored_exactly_as_the_orm_stores_it(db: Database, token: tuple[int, str]) -> None:
    tenant_id, token_id = token
    fields: dict[str, Any] = {
        "event_type": "accounts.create",
        "data": DATA,
        "timestamp": MOMENT,
        "now": MOMENT,
        "schema_valid": False,
        "validation_errors": ["$.after.aid: bad"],
    }
    written = IngestWriter(db.engine).write(token_id, events.unfiled_event(source="billrun", **fields))
    assert written is not None and (written.tenant_id, written.source) == (tenant_id, "crm-prod")
    with db.session() as s:
        reference = events.store_event(s, tenant_id=tenant_id, source="crm-prod", **fields).event
        loaded = s.get(Event, written.id)
        assert loaded is not None
        assert (loaded.type, loaded.data, loaded.timestamp, loaded.created_at, loaded.fanout_state) == (
            "accounts.create",
            DATA,
            MOMENT,
            MOMENT,
            "pending",
        )
        assert loaded.validation_errors == ["$.after.aid: bad"] and loaded.schema_valid is False
        assert [e.id for e in s.scalars(select(Event).where(Event.created_at <= MOMENT))] != []
    ours, theirs = raw_row(db, written.id), raw_row(db, reference.id)
    assert {k: v for k, v in ours.items() if k != "id"} == {k: v for k, v in theirs.items() if k != "id"}


def test_a_url_without_a_source_files_the_event_under_the_default(db: Database) -> None:
    with db.session() as s:
        tenant = get_or_create_tenant(s, "acme")
        tenant_id, token_id = tenant.id, ingest_tokens.create_ingest_token(s, tenant).id
    written = IngestWriter(db.engine).write(
        token_id, events.unfiled_event(event_type="accounts.create", data={}, source="billrun")
    )
    assert written is not None and (written.tenant_id, written.source) == (tenant_id, "billrun")
    with db.session() as s:
        assert s.get(Event, written.id).source == "billrun"  # type: ignore[union-attr]


def test_an_unknown_or_revoked_url_writes_nothing(db: Database, token: tuple[int, str]) -> None:
    _, token_id = token
    writer = IngestWriter(db.engine)

    def event() -> dict[str, Any]:
        return events.unfiled_event(event_type="accounts.create", data={}, source="billrun")

    assert writer.write("ing_nosuch", event()) is None
    with db.session() as s:
        ingest_tokens.revoke_ingest_token(s, token_id)
    assert writer.write(token_id, event()) is None
    with db.session() as s:
        assert list(s.scalars(select(Event.id))) == []


def test_a_failure_inside_rolls_back_and_returns_the_connection(db: Database, token: tuple[int, str]) -> None:
    _, token_id = token
    writer = IngestWriter(db.engine)
    unwritable = events.unfiled_event(event_type="accounts.create", data={"when": object()}, source="billrun")

    for _ in range(20):  # more than the pool holds: each connection went back
        with pytest.raises(TypeError):
            writer.write(token_id, unwritable)
    with db.session() as s:  # the write lock is free again
        get_or_create_tenant(s, "globex")
        assert list(s.scalars(select(Event.id))) == []


def test_the_connection_goes_back_to_the_pool_in_transactions_again(db: Database, token: tuple[int, str]) -> None:
    """On PostgreSQL the write runs in autocommit; the pooled connection must not stay in it, or a
    later session's statements would each commit on their own and a rollback would undo nothing."""
    _, token_id = token
    writer = IngestWriter(db.engine)
    for _ in range(10):  # more than the pool keeps idle: every connection was used
        assert writer.write(token_id, events.unfiled_event(event_type="accounts.create", data={}, source="b"))
    for _ in range(10):
        with pytest.raises(RuntimeError), db.session() as s:
            get_or_create_tenant(s, "rolled-back")
            s.flush()
            raise RuntimeError("roll back")
    with db.session() as s:
        assert s.scalar(select(Tenant).where(Tenant.name == "rolled-back")) is None
