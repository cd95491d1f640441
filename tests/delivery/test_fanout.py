"""The fan-out after the ingest: chunked, resumable, never doubled, each event to the subscriptions
that existed when it arrived."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from connector.catalog import get_catalog
from connector.storage import Database, events, fanout
from connector.storage.events import delivery_row
from connector.storage.models import Delivery, Event, Subscription, SubscriptionEvent, utcnow
from connector.storage.subscriptions import create_subscription
from connector.storage.tenants import get_or_create_tenant

from .conftest import fan_out_all

TYPE = "accounts.create"
KEYS = get_catalog().subscription_keys


def many_subscriptions(db: Database, count: int, tenant: str = "acme", event_type: str = TYPE) -> tuple[int, set[str]]:
    """*count* subscriptions of *tenant*, written in bulk (the ORM would take seconds)."""
    with db.session() as s:
        tenant_id = get_or_create_tenant(s, tenant).id
        s.flush()
        now = utcnow() - timedelta(seconds=1)
        rows = [
            {
                "id": f"sub_{tenant}_{n:05d}",
                "tenant_id": tenant_id,
                "target_url": f"http://127.0.0.1:9/hook/{n}",
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "status": "active",
                "created_via": "api",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ]
        s.execute(Subscription.__table__.insert(), rows)
        s.execute(
            SubscriptionEvent.__table__.insert(),
            [
                {"subscription_id": row["id"], "event_type": event_type, "tenant_id": tenant_id, "position": 0}
                for row in rows
            ],
        )
        return tenant_id, {row["id"] for row in rows}


def store(db: Database, tenant_id: int, event_type: str = TYPE) -> str:
    with db.session() as s:
        return events.store_event(s, tenant_id=tenant_id, event_type=event_type, data={"after": {"aid": 1}}).event.id


def pairs(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        return [
            (row.event_id, row.subscription_id)
            for row in s.execute(select(Delivery.event_id, Delivery.subscription_id))
        ]


def event_row(db: Database, event_id: str) -> Event:
    with db.session() as s:
        found = s.get(Event, event_id)
        assert found is not None
        return found


def test_a_large_fan_out_goes_in_bounded_chunks_and_resumes(db: Database) -> None:
    tenant_id, subscribers = many_subscriptions(db, 1203)
    event_id = store(db, tenant_id)
    reached = []
    for _ in range(3):
        with db.engine.begin() as connection:
            result = fanout.fan_out(connection, KEYS, 500)
        reached.append(event_row(db, event_id).fanout_after)
        assert result.deliveries == min(500, 1203 - 500 * (len(reached) - 1))
    assert result.events == 1 and not result.more
    assert reached[0] is not None and reached[1] is not None and reached[0] < reached[1] and reached[2] is None
    assert event_row(db, event_id).fanout_state == "done"
    assert sorted(pairs(db)) == sorted((event_id, sub) for sub in subscribers)


def test_a_fan_out_that_dies_mid_transaction_leaves_nothing_and_is_done_once_later(db: Database) -> None:
    tenant_id, subscribers = many_subscriptions(db, 700)
    event_id = store(db, tenant_id)
    with db.engine.begin() as connection:
        fanout.fan_out(connection, KEYS, 500)  # the first chunk is committed
    with pytest.raises(RuntimeError), db.engine.begin() as connection:
        assert fanout.fan_out(connection, KEYS, 500).deliveries == 200
        raise RuntimeError("the process dies before the commit")
    assert len(pairs(db)) == 500 and event_row(db, event_id).fanout_state == "pending"
    assert fan_out_all(db) == 200
    assert sorted(pairs(db)) == sorted((event_id, sub) for sub in subscribers)
    assert fan_out_all(db) == 0


def test_one_delivery_per_event_and_subscription_is_enforced(db: Database) -> None:
    tenant_id, subscribers = many_subscriptions(db, 1)
    event_id = store(db, tenant_id)
    fan_out_all(db)
    (subscriber,) = subscribers
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(Delivery.__table__.insert(), delivery_row(tenant_id, event_id, subscriber, utcnow()))


def test_events_fan_out_oldest_first_each_to_its_own_tenant(db: Database) -> None:
    acme, acme_subs = many_subscriptions(db, 3)
    globex, globex_subs = many_subscriptions(db, 2, tenant="globex")
    first, second, third = store(db, acme), store(db, globex), store(db, acme)
    with db.engine.begin() as connection:
        result = fanout.fan_out(connection, KEYS, 4)  # room for the first event and part of the second
    assert (result.events, result.deliveries, result.more) == (1, 4, True)
    assert fan_out_all(db) == 3 + 2 + 3 - 4
    got = pairs(db)
    assert sorted(got) == sorted(
        [(first, s) for s in acme_subs] + [(second, s) for s in globex_subs] + [(third, s) for s in acme_subs]
    )


def test_a_subscription_made_after_the_event_does_not_receive_it(db: Database) -> None:
    tenant_id, early = many_subscriptions(db, 1)
    event_id = store(db, tenant_id)
    with db.session() as s:
        create_subscription(s, tenant_id=tenant_id, events=[TYPE], target_url="http://127.0.0.1:9/late")
    fan_out_all(db)
    assert pairs(db) == [(event_id, next(iter(early)))]


def test_types_the_catalog_does_not_know_reach_the_wildcards(db: Database) -> None:
    tenant_id, star = many_subscriptions(db, 1, event_type="*")
    with db.session() as s:
        module = create_subscription(s, tenant_id=tenant_id, events=["accounts.*"], target_url="http://127.0.0.1:9/m")
        create_subscription(s, tenant_id=tenant_id, events=["accounts.update"], target_url="http://127.0.0.1:9/u")
        module_id = module.id
    event_id = store(db, tenant_id, "accounts.archive")
    fan_out_all(db)
    assert sorted(pairs(db)) == sorted([(event_id, next(iter(star))), (event_id, module_id)])


def test_postgres_fan_outs_skip_an_event_another_worker_holds(db: Database, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: one fan-out at a time")
    tenant_id, _ = many_subscriptions(db, 2)
    held, free = store(db, tenant_id), store(db, tenant_id)
    with db.engine.begin() as first:
        assert fanout.fan_out(first, KEYS, 2).events == 1  # locks and fans out the oldest event
        with db.engine.begin() as second:
            result = fanout.fan_out(second, KEYS, 10)
            assert result.events == 1
        assert {event for event, _ in pairs(db)} == {free}  # the second worker skipped the held one
    assert {event for event, _ in pairs(db)} == {held, free}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == 4


def test_quarantined_and_pending_events_are_kept_by_retention(db: Database) -> None:
    from connector.storage import retention

    tenant_id, _ = many_subscriptions(db, 1)
    with db.session() as s:
        kept = [
            events.store_event(s, tenant_id=tenant_id, event_type=TYPE, data={}, quarantined=True).event.id,
            events.store_event(s, tenant_id=tenant_id, event_type=TYPE, data={}).event.id,
        ]
    with db.session() as s:
        purged = retention.purge_batch(s, utcnow() + timedelta(days=1))
    assert purged.deleted == 0
    with db.session() as s:
        assert sorted(s.scalars(select(Event.id))) == sorted(kept)


def test_the_lookups_of_waiting_events_use_the_partial_index(db: Database) -> None:
    """The plans of the very statements the fan-out, the quarantine and the metrics run (on
    PostgreSQL with sequential scans off: whether the partial index can serve them)."""
    from sqlalchemy import event as sqlalchemy_event

    from connector.storage import quarantine, stats

    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "fanout_state" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", capture)
    with db.engine.begin() as connection:
        fanout.fan_out(connection, KEYS, 10)
    with db.session() as s:
        quarantine.list_quarantined(s, 1)
        events.list_events(s, 1, waiting="quarantined")
        stats.queue_stats(s)
    sqlalchemy_event.remove(db.engine, "before_cursor_execute", capture)
    lookups = [(statement, parameters) for statement, parameters in seen if "WHERE" in statement]
    assert len(lookups) >= 4  # the fan-out, the quarantine list, the event log's waiting ones, the metrics
    with db.engine.connect() as connection:
        explain = "EXPLAIN QUERY PLAN" if db.dialect == "sqlite" else "EXPLAIN"
        if db.dialect != "sqlite":
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in lookups:
            plan = " ".join(str(row) for row in connection.exec_driver_sql(f"{explain} {statement}", parameters))
            assert "ix_events_fanout_state_created_at_id" in plan, (statement, plan)
        connection.rollback()


def test_work_waiting_sees_events_to_fan_out_and_due_deliveries_only(db: Database) -> None:
    from connector.storage import claims

    def waiting(**kwargs: Any) -> bool:
        with db.session(write=False) as s:
            return claims.work_waiting(s, **kwargs)

    tenant_id, _ = many_subscriptions(db, 1)
    assert not waiting()
    store(db, tenant_id)
    assert waiting()  # an event to fan out
    fan_out_all(db)
    assert waiting()  # its delivery is due
    with db.engine.begin() as connection:
        assert len(claims.claim(connection, "w1", 10, 30)) == 1
    assert not waiting()  # leased: another worker's
    assert waiting(now=utcnow() + timedelta(seconds=31))  # the lease ran out
