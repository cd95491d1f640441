"""The queue and the worker against real receivers and real databases."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import standardwebhooks
from sqlalchemy import delete, select, text, update
from sqlalchemy import event as sqlalchemy_event

from connector.delivery import worker as worker_module
from connector.delivery.pacing import MIN_PAUSE_SECONDS, LockGap, Pacer
from connector.delivery.worker import Worker
from connector.storage import Database, claims, events, retention, stats
from connector.storage import deliveries as delivery_log
from connector.storage.models import Delivery, DeliveryAttempt, Event, Subscription, utcnow
from connector.storage.subscriptions import (
    Cursor,
    create_subscription,
    delete_subscription,
    rotate_secret,
    update_subscription,
)
from connector.storage.tenants import get_or_create_tenant

from .conftest import fan_out_all, make_settings, query_plan, wait_until
from .receiver import Received, Receiver, Reply

TYPE = "subscribers.update"


def subscribe(db: Database, url: str, tenant: str = "acme", events: tuple[str, ...] = (TYPE,)) -> tuple[int, str, str]:
    with db.session() as s:
        t = get_or_create_tenant(s, tenant)
        s.flush()
        sub = create_subscription(s, tenant_id=t.id, events=list(events), target_url=url)
        return t.id, sub.id, sub.secret


def publish(db: Database, tenant_id: int, data: Any = None, **kwargs: Any) -> events.StoredEvent:
    """Store an event and fan it out, as the ingest and then the worker do."""
    with db.session() as s:
        stored = events.store_event(s, tenant_id=tenant_id, event_type=TYPE, data=data or {"n": 1}, **kwargs)
    fan_out_all(db)
    return stored


def deliveries(db: Database, **where: Any) -> list[Delivery]:
    with db.session() as s:
        query = select(Delivery).order_by(Delivery.created_at)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(s.scalars(query))


def subscription(db: Database, sub_id: str) -> Subscription:
    with db.session() as s:
        found = s.get(Subscription, sub_id)
        assert found is not None
        return found


@pytest.fixture
def run_worker(db: Database, db_url: str) -> Iterator[Any]:
    workers: list[Worker] = []

    def start(**overrides: Any) -> Worker:
        worker = Worker(db, make_settings(db_url, **overrides), poll_seconds=0.05)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop(10)


def test_event_reaches_only_its_tenants_active_subscriptions(db: Database, receiver: Receiver) -> None:
    tenant, sub_a, _ = subscribe(db, receiver.url)
    _, sub_b, _ = subscribe(db, receiver.url, events=("subscribers.trackchanges",))
    subscribe(db, receiver.url, events=("accounts.create",))  # another type
    _, disabled, _ = subscribe(db, receiver.url)
    foreign_tenant, _, _ = subscribe(db, receiver.url, tenant="globex")  # same type, another tenant
    assert foreign_tenant != tenant
    with db.session() as s:
        update_subscription(s.get(Subscription, disabled), status="disabled")  # type: ignore[arg-type]
        stored = events.store_event(s, tenant_id=tenant, event_type=TYPE, data={})
    assert stored.created and stored.deliveries is None and stored.event.id.startswith("evt_")
    assert deliveries(db) == []  # the ingest writes the event alone; the fan-out follows
    assert fan_out_all(db) == 2
    assert {d.subscription_id for d in deliveries(db)} == {sub_a, sub_b}
    assert fan_out_all(db) == 0  # done once


def test_client_event_id_is_idempotent_per_tenant(db: Database, receiver: Receiver) -> None:
    tenant, _, _ = subscribe(db, receiver.url)
    other_tenant, _, _ = subscribe(db, receiver.url, tenant="globex")
    first = publish(db, tenant, client_event_id="order-1")
    again = publish(db, tenant, data={"n": 2}, client_event_id="order-1")
    elsewhere = publish(db, other_tenant, client_event_id="order-1")
    assert again.event.id == first.event.id and not again.created and again.deliveries == 1
    assert elsewhere.created and elsewhere.event.id != first.event.id
    assert len(deliveries(db)) == 2


def test_delivery_is_signed_and_verifiable(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, sub_id, secret = subscribe(db, receiver.url)
    stored = publish(db, tenant, data={"after": {"aid": 7, "name": "Zoë"}})
    run_worker()
    got = receiver.wait_for(1)[0]
    assert got.headers["webhook-id"] == stored.event.id
    assert json.loads(got.body) == {
        "id": stored.event.id,
        "type": TYPE,
        "timestamp": stored.event.envelope()["timestamp"],
        "data": {"after": {"aid": 7, "name": "Zoë"}},
    }
    assert b" " not in got.body.replace("Zoë".encode(), b"")
    standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    wait_until(lambda: deliveries(db, status="succeeded"))
    with db.session() as s:
        attempts = list(s.scalars(select(DeliveryAttempt)))
    assert len(attempts) == 1 and attempts[0].status_code == 200 and attempts[0].response_excerpt == "ok"
    assert attempts[0].duration_ms is not None and attempts[0].worker_id


def test_retries_keep_the_webhook_id(db: Database, receiver: Receiver, run_worker: Any) -> None:
    answers = iter([500, 502, 200])
    receiver.responder = lambda _r: Reply(next(answers))
    tenant, sub_id, secret = subscribe(db, receiver.url)
    stored = publish(db, tenant)
    run_worker()
    got = receiver.wait_for(3)
    assert {r.headers["webhook-id"] for r in got} == {stored.event.id}
    assert len({r.body for r in got}) == 1
    for r in got:
        standardwebhooks.Webhook(secret).verify(r.body, r.headers)
    done = wait_until(lambda: deliveries(db, status="succeeded"))
    assert done[0].attempt_count == 3 and done[0].last_status_code == 200
    assert subscription(db, sub_id).failing_since is None


def test_schedule_runs_out_then_failed(db: Database, receiver: Receiver, run_worker: Any) -> None:
    receiver.responder = lambda _r: Reply(500, body=b"boom")
    tenant, sub_id, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    run_worker(retry_schedule=(0, 1, 1), retry_scale=0.01)
    failed = wait_until(lambda: deliveries(db, status="failed"))
    assert failed[0].attempt_count == 3 and failed[0].last_status_code == 500
    assert len(receiver.requests) == 3
    sub = subscription(db, sub_id)
    assert sub.status == "active" and sub.failing_since is not None


def test_redirect_is_a_failure(db: Database, receiver: Receiver, run_worker: Any) -> None:
    receiver.responder = lambda _r: Reply(301, {"Location": "http://127.0.0.1:1/"})
    tenant, _, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    run_worker(retry_schedule=(0,))
    failed = wait_until(lambda: deliveries(db, status="failed"))
    assert failed[0].last_status_code == 301 and len(receiver.requests) == 1


def test_410_disables_gone_and_cancels_pending(db: Database, receiver: Receiver, run_worker: Any) -> None:
    receiver.responder = lambda _r: Reply(410)
    tenant, sub_id, _ = subscribe(db, receiver.url)
    later = publish(db, tenant)
    with db.session() as s:
        s.execute(update(Delivery).values(next_attempt_at=utcnow() + timedelta(hours=1)))
    now = publish(db, tenant)
    run_worker()
    receiver.wait_for(1)
    wait_until(lambda: subscription(db, sub_id).status == "disabled")
    sub = subscription(db, sub_id)
    assert sub.disabled_reason == "gone"
    by_event = {d.event_id: d for d in wait_until(lambda: deliveries(db, status="cancelled") and deliveries(db))}
    assert by_event[now.event.id].status == "failed" and by_event[now.event.id].last_status_code == 410
    assert by_event[later.event.id].status == "cancelled"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(db: Database, receiver: Receiver, run_worker: Any, status: int) -> None:
    answers = iter([Reply(status, {"Retry-After": "1"}), Reply(200)])
    receiver.responder = lambda _r: next(answers)
    tenant, _, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    run_worker()
    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 0.9  # the compressed schedule alone would retry after ~5 ms
    wait_until(lambda: deliveries(db, status="succeeded"))


def test_failing_for_too_long_disables(db: Database, receiver: Receiver, run_worker: Any) -> None:
    receiver.responder = lambda _r: Reply(500)
    tenant, sub_id, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    later = publish(db, tenant)
    with db.session() as s:
        s.execute(
            update(Delivery)
            .where(Delivery.event_id == later.event.id)
            .values(next_attempt_at=utcnow() + timedelta(hours=1))
        )
    run_worker(retry_schedule=(0,) + (0.3,) * 20, retry_scale=1.0, disable_after_failing_seconds=1)
    wait_until(lambda: subscription(db, sub_id).status == "disabled")
    assert subscription(db, sub_id).disabled_reason == "failing"
    assert {d.status for d in wait_until(lambda: deliveries(db, status="pending") == [] and deliveries(db))} == {
        "failed"
    }


def test_rotation_signs_with_both_secrets(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, sub_id, old_secret = subscribe(db, receiver.url)
    with db.session() as s:
        new_secret = rotate_secret(s.get(Subscription, sub_id), 3600)  # type: ignore[arg-type]
    publish(db, tenant)
    run_worker()
    got = receiver.wait_for(1)[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    standardwebhooks.Webhook(old_secret).verify(got.body, got.headers)
    standardwebhooks.Webhook(new_secret).verify(got.body, got.headers)


def test_rotation_grace_ends(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, sub_id, old_secret = subscribe(db, receiver.url)
    with db.session() as s:
        new_secret = rotate_secret(s.get(Subscription, sub_id), 0)  # type: ignore[arg-type]
    publish(db, tenant)
    run_worker()
    got = receiver.wait_for(1)[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(new_secret).verify(got.body, got.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old_secret).verify(got.body, got.headers)


def test_guard_holds_at_connect_time(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, _, _ = subscribe(db, receiver.url.replace("127.0.0.1", "localhost"))
    publish(db, tenant)
    run_worker(allowed_networks=(), retry_schedule=(0,))
    failed = wait_until(lambda: deliveries(db, status="failed"))
    assert receiver.requests == []
    # The delivery log says which address, which class and how to allow it.
    assert re.fullmatch(
        r"refused by the network guard: localhost resolves to (127\.0\.0\.1|::1), a loopback address; to allow it, "
        r"run the connector \(serve, and any worker\) with --allow-network (\S+) or BILLRUN_CONNECTOR_ALLOWED_NETWORKS=\2",
        failed[0].last_error or "",
    ), failed[0].last_error


def test_every_attempt_is_one_log_line(
    db: Database, receiver: Receiver, run_worker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector.delivery.attempts")
    answers = iter([Reply(503), Reply(200)])
    receiver.responder = lambda _request: next(answers)
    tenant, _, _ = subscribe(db, receiver.url + "/secret-path-part")
    stored = publish(db, tenant)
    run_worker(retry_schedule=(0, 1), retry_scale=0.01)
    wait_until(lambda: deliveries(db, status="succeeded"))
    (delivery,) = deliveries(db)
    lines = [r.getMessage() for r in caplog.records if r.name == "connector.delivery.attempts"]
    host = f"127.0.0.1:{receiver.port}"
    assert len(lines) == 2, lines
    assert re.fullmatch(
        rf"event={stored.event.id} delivery={delivery.id} host={host} attempt=1 status=503 duration_ms=\d+ "
        r"outcome=retry retry_in=\d+\.\ds error=-",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        rf"event={stored.event.id} delivery={delivery.id} host={host} attempt=2 status=200 duration_ms=\d+ "
        r"outcome=succeeded retry_in=- error=-",
        lines[1],
    ), lines[1]
    assert not any("secret-path-part" in line for line in lines)


def test_an_attempt_without_an_answer_logs_its_error(
    db: Database, run_worker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connector.delivery.attempts")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    tenant, _, _ = subscribe(db, f"http://127.0.0.1:{port}/hook")
    publish(db, tenant)
    run_worker(retry_schedule=(0,))
    wait_until(lambda: deliveries(db, status="failed"))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "connector.delivery.attempts"]
    assert f" host=127.0.0.1:{port} attempt=1 status=- " in line
    assert re.search(r' outcome=failed retry_in=- error="NewConnectionError: [^"]*Connection refused"$', line), line


def test_disabled_subscription_deliveries_are_cancelled(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, sub_id, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    with db.session() as s:
        update_subscription(s.get(Subscription, sub_id), status="disabled")  # type: ignore[arg-type]
    run_worker()
    wait_until(lambda: deliveries(db, status="cancelled"))
    assert receiver.requests == []


def test_worker_removes_expired_subscriptions_unsent(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, short_id, _ = subscribe(db, receiver.url)
    _, lasting_id, _ = subscribe(db, receiver.url)
    with db.session() as s:
        s.get(Subscription, short_id).expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    publish(db, tenant)
    run_worker()
    wait_until(lambda: deliveries(db, status="succeeded"))
    wait_until(lambda: subscription_gone(db, short_id))
    assert [request.headers["webhook-id"] for request in receiver.requests] == [deliveries(db)[0].event_id]
    assert subscription(db, lasting_id).status == "active"


def subscription_gone(db: Database, sub_id: str) -> bool:
    with db.session() as s:
        return s.get(Subscription, sub_id) is None


def test_expired_lease_is_taken_over_and_the_old_owner_ignored(db: Database, receiver: Receiver) -> None:
    tenant, _, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    start = utcnow()  # the claims are given their clock: no sleeping, no race with a loaded machine
    with db.session() as s:
        first = claims.claim(s, "worker-a", 10, lease_seconds=0.2, now=start)
    with db.session() as s:
        assert claims.claim(s, "worker-b", 10, lease_seconds=30, now=start + timedelta(seconds=0.1)) == []  # live
    with db.session() as s:
        taken = claims.claim(s, "worker-b", 10, lease_seconds=30, now=start + timedelta(seconds=0.3))
    assert [j.delivery_id for j in taken] == [j.delivery_id for j in first]
    late = claims.AttemptOutcome(first[0], utcnow(), 5, 200, None, "ok", "succeeded")
    with db.session() as s:
        claims.record_attempts(s, "worker-a", [late], disable_after_failing_seconds=60)
    (row,) = deliveries(db)
    assert row.status == "pending" and row.lease_owner == "worker-b"  # worker-a's late result changed nothing
    with db.session() as s:
        assert len(list(s.scalars(select(DeliveryAttempt)))) == 1  # but its attempt is in the log


def test_an_attempt_of_a_delivery_removed_meanwhile_does_not_stop_the_others_being_recorded(
    db: Database, receiver: Receiver
) -> None:
    """A subscription deleted while an attempt of its delivery is in flight takes the delivery with it:
    the attempts that came back with that one are still recorded, in the same transaction."""
    tenant, removed_id, _ = subscribe(db, receiver.url)
    _, kept_id, _ = subscribe(db, receiver.url + "/kept")
    publish(db, tenant)
    with db.session() as s:
        jobs = claims.claim(s, "worker-a", 10, lease_seconds=30)
    assert {job.subscription_id for job in jobs} == {removed_id, kept_id}
    with db.session() as s:
        delete_subscription(s, s.get(Subscription, removed_id))  # type: ignore[arg-type]
    outcomes = [claims.AttemptOutcome(job, utcnow(), 5, 200, None, "ok", "succeeded") for job in jobs]
    with db.session() as s:
        claims.record_attempts(s, "worker-a", outcomes, disable_after_failing_seconds=60)
    (row,) = deliveries(db)
    assert (row.subscription_id, row.status, row.attempt_count, row.lease_owner) == (kept_id, "succeeded", 1, None)
    with db.session() as s:
        assert [a.delivery_id for a in s.scalars(select(DeliveryAttempt))] == [row.id]


def test_recording_attempts_never_deadlocks_with_a_subscription_being_deleted(
    db: Database, db_url: str, receiver: Receiver
) -> None:
    """PostgreSQL: a DELETE of a subscription locks it, then its deliveries; the worker, recording a
    failed attempt, locks the delivery, then the subscription (its failure record). Taken in that order
    the two wait for each other; the worker takes the subscription first, so one simply waits."""
    if not db_url.startswith("postgresql"):
        pytest.skip("row locks in this order exist only on PostgreSQL; SQLite serialises writers")
    tenant, sub_id, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    with db.session() as s:
        jobs = claims.claim(s, "worker-a", 10, lease_seconds=30)
    outcomes = [claims.AttemptOutcome(job, utcnow(), 5, 500, None, "no", "retry", utcnow()) for job in jobs]
    errors: list[BaseException] = []

    def record() -> None:
        try:
            with db.engine.begin() as connection:
                claims.record_attempts(connection, "worker-a", outcomes, disable_after_failing_seconds=60)
        except BaseException as exc:
            errors.append(exc)

    def waiting_for_a_lock() -> bool:
        with db.engine.connect() as probe:
            return bool(probe.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")))

    with db.engine.connect() as deleter:
        transaction = deleter.begin()
        deleter.execute(select(Subscription.id).where(Subscription.id == sub_id).with_for_update())
        recorder = threading.Thread(target=record)
        recorder.start()
        try:
            wait_until(waiting_for_a_lock)  # the worker waits for the subscription
            deleter.execute(delete(Subscription).where(Subscription.id == sub_id))  # and its deliveries
            transaction.commit()
        except BaseException as exc:
            errors.append(exc)
            transaction.rollback()
        finally:
            recorder.join(30)
    assert errors == []
    assert deliveries(db) == []


def test_release_gives_back_only_the_own_unattempted_claims(db: Database, receiver: Receiver) -> None:
    tenant, _, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    with db.session() as s:
        (job,) = claims.claim(s, "worker-a", 10, lease_seconds=30)
    with db.session() as s:
        assert claims.release(s, "worker-b", [job.delivery_id]) == 0  # not worker-b's lease
        assert claims.claim(s, "worker-b", 10, lease_seconds=30) == []
    with db.session() as s:
        assert claims.release(s, "worker-a", [job.delivery_id]) == 1
    (row,) = deliveries(db)
    assert (row.status, row.attempt_count, row.lease_owner, row.lease_expires_at) == ("pending", 0, None, None)
    with db.session() as s:
        assert [j.delivery_id for j in claims.claim(s, "worker-b", 10, lease_seconds=30)] == [
            job.delivery_id
        ]  # at once


def test_manual_retry_and_recover(db: Database, receiver: Receiver, run_worker: Any) -> None:
    tenant, sub_id, _ = subscribe(db, receiver.url)
    receiver.responder = lambda _r: Reply(500)
    for _ in range(3):
        publish(db, tenant)
    worker = run_worker(retry_schedule=(0,))
    wait_until(lambda: len(deliveries(db, status="failed")) == 3)
    worker.stop(10)
    receiver.responder = lambda _r: Reply(200)
    first, *rest = deliveries(db)
    with db.session() as s:
        assert delivery_log.requeue(s, first.id)
    with db.session() as s:
        assert delivery_log.recover(s, sub_id, utcnow() + timedelta(minutes=1)) == 0
        assert delivery_log.recover(s, sub_id, first.created_at) == 2
    run_worker(retry_schedule=(0,))
    wait_until(lambda: len(deliveries(db, status="succeeded")) == 3)
    assert len(receiver.requests) == 6


def test_purge_removes_old_finished_events_only(db: Database, receiver: Receiver) -> None:
    tenant, _, _ = subscribe(db, receiver.url)
    old_done = publish(db, tenant)
    old_pending = publish(db, tenant)
    fresh = publish(db, tenant)
    long_ago = utcnow() - timedelta(days=40)
    done_delivery = deliveries(db, event_id=old_done.event.id)[0].id
    with db.session() as s:
        s.execute(update(Event).where(Event.id != fresh.event.id).values(created_at=long_ago))
        s.execute(update(Delivery).where(Delivery.event_id != old_pending.event.id).values(status="succeeded"))
        s.add(DeliveryAttempt(delivery_id=done_delivery, status_code=200))
    with db.session() as s:
        first = retention.purge_batch(s, utcnow() - timedelta(days=30), batch=1)
        second = retention.purge_batch(s, utcnow() - timedelta(days=30), first.after, batch=1)
        assert retention.purge_batch(s, utcnow() - timedelta(days=30), second.after).after is None
    assert first.deleted + second.deleted == 1  # the pending one is stepped over, not purged
    with db.session() as s:
        assert set(s.scalars(select(Event.id))) == {old_pending.event.id, fresh.event.id}
        assert old_done.event.id not in {d.event_id for d in s.scalars(select(Delivery))}
        assert list(s.scalars(select(DeliveryAttempt))) == []


def test_each_purge_call_goes_on_where_the_last_one_stopped(
    db: Database, db_url: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old events kept for a pending delivery sit at the front of the history: a purge that started
    from the oldest on every call walked them again each time, and with small batches never got past
    them (the retention bench purged 30 % of its history in 150 s)."""
    tenant, _, _ = subscribe(db, receiver.url)
    kept = [publish(db, tenant).event.id for _ in range(3)]
    purgeable = [publish(db, tenant).event.id for _ in range(2)]
    with db.session() as s:
        long_ago = utcnow() - timedelta(days=40)
        for n, event_id in enumerate(kept + purgeable):  # in this order
            s.execute(update(Event).where(Event.id == event_id).values(created_at=long_ago + timedelta(seconds=n)))
        s.execute(update(Delivery).where(Delivery.event_id.in_(purgeable)).values(status="succeeded"))
    clock = iter(range(10**6))  # each reading of the clock a second later: one batch per call
    monkeypatch.setattr(
        worker_module, "time", SimpleNamespace(monotonic=lambda: float(next(clock)), sleep=lambda _s: None)
    )
    worker = Worker(db, make_settings(db_url))
    worker.purge_pacer = Pacer(1, 1, None)  # one event per batch
    worker.lock_gap = LockGap("postgresql")  # no gap: the fake clock would make it a second long
    for _ in range(len(kept) + len(purgeable)):
        worker._purge()
    with db.session() as s:
        assert sorted(s.scalars(select(Event.id))) == sorted(kept)
    worker._purge()  # the end of the history: the next round starts from the oldest again
    assert worker._purge_after is None


def test_on_sqlite_the_worker_leaves_the_write_lock_free_between_its_transactions(
    db: Database, db_url: str, receiver: Receiver, run_worker: Any
) -> None:
    """SQLite's lock is not fair: a worker that fans out, records and claims back to back kept a
    waiting ingest out for tens of milliseconds. Each write transaction of its loop starts only once
    the lock was free at least MIN_PAUSE_SECONDS."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no database-wide write lock")
    tenant, _, _ = subscribe(db, receiver.url)
    with db.session() as s:
        for _ in range(60):  # stored, not fanned out: the worker fans them out in several transactions
            events.store_event(s, tenant_id=tenant, event_type=TYPE, data={"n": 1})
    marks: list[tuple[str, float]] = []

    def began(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == "delivery-worker" and statement == "BEGIN IMMEDIATE":
            marks.append(("begin", time.monotonic()))

    def committed(_conn: Any) -> None:
        if threading.current_thread().name == "delivery-worker":
            marks.append(("commit", time.monotonic()))

    sqlalchemy_event.listen(db.engine, "before_cursor_execute", began)
    sqlalchemy_event.listen(db.engine, "commit", committed)
    run_worker()
    wait_until(lambda: len(deliveries(db, status="succeeded")) == 60)
    gaps: list[float] = []
    write_ended: float | None = None
    in_write = False
    for kind, at in marks:
        if kind == "begin":
            if write_ended is not None:
                gaps.append(at - write_ended)
            write_ended = None
            in_write = True
        elif kind == "commit" and in_write:
            write_ended, in_write = at, False
    assert len(gaps) >= 3
    assert min(gaps) >= MIN_PAUSE_SECONDS * 0.9, sorted(gaps)[:5]


def test_queue_stats(db: Database, receiver: Receiver) -> None:
    tenant, _, _ = subscribe(db, receiver.url)
    publish(db, tenant)
    publish(db, tenant)
    with db.session() as s:
        s.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=30)))
        found = stats.queue_stats(s)
    assert found.pending == 2 and found.failed == 0 and found.due == 2 and 29 <= found.oldest_due_age_seconds < 120


def test_job_that_cannot_finish_inside_its_lease_is_handed_back_unsent(
    db: Database, receiver: Receiver, run_worker: Any
) -> None:
    """One thread, four jobs claimed at once, each first attempt cut at the timeout: the later jobs
    wait too long for the thread to finish inside their lease, so they are handed back and claimed
    again with a fresh lease instead of being sent while the lease runs out (which lets another
    worker in)."""
    tenant, _, _ = subscribe(db, receiver.url)
    events = {publish(db, tenant).event.id for _ in range(4)}
    lease_left: dict[str, float] = {}
    seen: set[str] = set()

    def respond(request: Received) -> Reply:
        event_id = request.headers["webhook-id"]
        with db.session() as s:
            (until,) = s.scalars(select(Delivery.lease_expires_at).where(Delivery.event_id == event_id))
        lease_left.setdefault(event_id, (until - utcnow()).total_seconds())
        first = event_id not in seen
        seen.add(event_id)
        return Reply(delay=3 if first else 0)  # the first attempt of each outlives the 1 s timeout

    receiver.responder = respond
    run_worker(worker_threads=1, timeout=1, lease_seconds=3)
    wait_until(lambda: len(deliveries(db, status="succeeded")) == 4, timeout=30)
    assert set(lease_left) == events
    assert min(lease_left.values()) >= 1, lease_left  # every attempt started with time for a whole one


def test_one_exchange_claims_ahead_as_many_as_the_database_suits(db: Database, db_url: str, receiver: Receiver) -> None:
    """On PostgreSQL an exchange costs about the same whatever its size, so it claims 32 jobs per
    thread; on SQLite it holds the one write lock for its rows' time, so 8."""
    tenant, _, _ = subscribe(db, receiver.url)
    for n in range(70):
        subscribe(db, f"{receiver.url}/{n}")
    publish(db, tenant)  # 71 due deliveries
    worker = Worker(db, make_settings(db_url, worker_threads=2))
    jobs, _ = worker._exchange([], [], worker.capacity, False)
    with db.engine.begin() as connection:
        claims.release(connection, worker.worker_id, [job.delivery_id for job in jobs])
    assert len(jobs) == {"sqlite": 16, "postgresql": 64}[db.dialect]


def test_stop_finishes_the_attempt_in_flight_and_releases_the_claims_not_started(
    db: Database, receiver: Receiver, run_worker: Any
) -> None:
    tenant, _, _ = subscribe(db, receiver.url)
    first, second = (publish(db, tenant).event.id for _ in range(2))
    receiver.responder = lambda _r: Reply(delay=0.5)
    worker = run_worker(worker_threads=1)  # both claimed at once; the second waits for the thread
    receiver.wait_for(1, timeout=10)
    assert worker.stop(10) is True
    assert [r.headers["webhook-id"] for r in receiver.requests] == [first]
    (sent,) = deliveries(db, event_id=first)
    (unsent,) = deliveries(db, event_id=second)
    assert (sent.status, sent.attempt_count, sent.lease_owner) == ("succeeded", 1, None)
    assert (unsent.status, unsent.attempt_count, unsent.lease_owner, unsent.lease_expires_at) == (
        "pending",
        0,
        None,
        None,
    )


def test_the_purges_pending_check_goes_through_the_event_index(db: Database) -> None:
    """With a backlog, walking the status index for each old event stalled everything on SQLite.
    On PostgreSQL, with sequential scans off, the same index serves the check."""
    plan = query_plan(db, retention.purge_statement(["evt_a", "evt_b"]))
    assert "ix_deliveries_event_id_subscription_id" in plan, plan
    assert "ix_deliveries_status_next_attempt_at" not in plan, plan


def test_the_purges_next_batch_starts_its_index_range_at_the_last_position(db: Database) -> None:
    """Spelled out with OR, SQLite read the position from the cutoff's side: milliseconds per batch.
    On PostgreSQL the same index serves it, the position part of its condition, with no sort."""
    now = utcnow()
    plan = query_plan(db, retention.next_events(now, Cursor(now - timedelta(days=40), "evt_a"), 10))
    if db.dialect == "sqlite":
        assert "ix_events_created_at ((created_at,id)>(?,?) AND created_at<?)" in plan, plan
    else:
        assert "Index Scan using ix_events_created_at" in plan and "ROW(created_at, (id)::text) > ROW(" in plan, plan
        assert "Sort" not in plan, plan


def test_the_body_carries_the_stored_payload_text_as_it_is(db: Database, receiver: Receiver, run_worker: Any) -> None:
    """New payloads are stored as compact JSON and spliced into the body; one stored in an older
    style (spaces, escapes, even an escaped lone surrogate) still goes out as valid, signed JSON."""
    tenant, _, secret = subscribe(db, receiver.url)
    fresh = publish(db, tenant, data={"name": "José ☃", "n": [1, 2]})
    old = publish(db, tenant, data={"x": 1})
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            'UPDATE events SET data = \'{"name": "Zo\\udce9", "\\u00e9": [1, 2]}\' WHERE id = '
            + ("%(id)s" if db.dialect == "postgresql" else ":id"),
            {"id": old.event.id},
        )
    run_worker()
    received = {json.loads(r.body)["id"]: r for r in receiver.wait_for(2)}
    body = received[fresh.event.id].body
    assert b'"data":{"name":"Jos\xc3\xa9 \xe2\x98\x83","n":[1,2]}}' in body  # compact, UTF-8 as it is
    assert json.loads(received[old.event.id].body)["data"] == {"name": "Zo\udce9", "é": [1, 2]}
    for request in received.values():
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)
