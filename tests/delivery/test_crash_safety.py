"""Worker processes: kill -9 mid-run loses nothing; three workers on PostgreSQL never double-send."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from process_control import stop
from sqlalchemy import distinct, func, select

from connector.storage import Database, events
from connector.storage.models import Delivery, DeliveryAttempt, Event
from connector.storage.subscriptions import create_subscription
from connector.storage.tenants import get_or_create_tenant

from .conftest import wait_until
from .receiver import Received, Receiver, Reply

pytestmark = pytest.mark.slow  # end to end: processes, servers, kill -9; `-m 'not slow'` skips them

# The dead worker's leases expire quickly; attempts are bounded well inside a lease.
SHORT_LEASE = {
    "BILLRUN_CONNECTOR_LEASE_SECONDS": "4",
    "BILLRUN_CONNECTOR_TIMEOUT": "1.5",
    "BILLRUN_CONNECTOR_CONNECT_TIMEOUT": "1",
}
WORKER = [sys.executable, "-c", "from connector.cli import main; main()", "worker"]


def enqueue(db: Database, url: str, count: int) -> set[str]:
    with db.session() as s:
        tenant = get_or_create_tenant(s, "acme")
        s.flush()
        sub = create_subscription(s, tenant_id=tenant.id, events=["accounts.create"], target_url=url)
        s.flush()
        return {
            events.store_event(
                s,
                tenant_id=tenant.id,
                event_type="accounts.create",
                data={"after": {"aid": n}},
                only_subscription_id=sub.id,
            ).event.id
            for n in range(count)
        }


def start_worker(db_url: str, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "BILLRUN_CONNECTOR_DATABASE_URL": db_url,
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "127.0.0.0/8",
        "BILLRUN_CONNECTOR_RETRY_SCALE": "0.001",
        "BILLRUN_CONNECTOR_WORKER_THREADS": "4",
        **env,
    }
    with log.open("ab") as out:
        return subprocess.Popen(WORKER, env=environment, stdout=out, stderr=subprocess.STDOUT)


def unfinished(db: Database) -> int:
    """Deliveries not yet recorded as succeeded, read in a short transaction of its own.

    Never poll inside one long session: on SQLite every transaction begins with BEGIN IMMEDIATE, so
    it would hold the write lock and the workers could not record the very results awaited (and it
    would keep reading one snapshot).
    """
    with db.session() as s:
        return int(s.scalar(select(func.count()).where(Delivery.status != "succeeded")) or 0)


def ids_received(receiver: Receiver) -> set[str]:
    return {r.headers["webhook-id"] for r in list(receiver.requests)}


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Path]:
    """The workers' shared log; shown by pytest when the test fails."""
    path = tmp_path / "workers.log"
    path.touch()
    yield path
    print(path.read_text()[-20000:])


def test_kill_9_mid_run_loses_nothing(db: Database, db_url: str, receiver: Receiver, log: Path) -> None:
    events = enqueue(db, receiver.url, 2000)
    # The last replies are slow, so every event has arrived well before its attempt is recorded:
    # the test must then wait for the records without holding up the worker that writes them.
    receiver.responder = lambda _r: Reply(delay=1.0 if len(receiver.requests) >= 1990 else 0)
    first = start_worker(db_url, log, **SHORT_LEASE)
    try:
        wait_until(lambda: len(receiver.requests) >= 300 or first.poll() is not None, timeout=120)
        assert first.poll() is None, log.read_text()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    received_at_kill = len(receiver.requests)
    assert received_at_kill < 2000, "the worker finished before it could be killed"
    second = start_worker(db_url, log, **SHORT_LEASE)
    try:
        wait_until(lambda: ids_received(receiver) >= events, timeout=180, interval=0.2)
        wait_until(lambda: unfinished(db) == 0, timeout=30)
    finally:
        stop(second)
    assert second.returncode == 0, log.read_text()  # SIGTERM: finish, record, exit cleanly
    for request in receiver.requests:
        assert json.loads(request.body)["id"] == request.headers["webhook-id"]
    assert ids_received(receiver) == events
    repeats = sum(n - 1 for n in Counter(r.headers["webhook-id"] for r in receiver.requests).values())
    print(f"received {len(receiver.requests)} requests for {len(events)} events ({repeats} repeats after the kill)")


def fan_out_progress(db: Database) -> tuple[int, int]:
    """(deliveries written, events still waiting for their fan-out), in a short read of its own."""
    with db.session(write=False) as s:
        written = int(s.scalar(select(func.count()).select_from(Delivery)) or 0)
        waiting = int(s.scalar(select(func.count()).where(Event.fanout_state != "done")) or 0)
        return written, waiting


def test_kill_9_during_fan_out_loses_no_delivery_and_doubles_none(
    db: Database, db_url: str, receiver: Receiver, log: Path
) -> None:
    """20 events x 300 subscribers: the fan-out writes 6,000 deliveries, 500 per transaction. The
    worker is killed each time a transaction of it has committed, until the fan-out is through."""
    tenant_id, subscribers = bulk_subscriptions(db, [f"{receiver.url}/{n}" for n in range(300)])
    with db.session() as s:
        stored = [
            events.store_event(s, tenant_id=tenant_id, event_type="accounts.create", data={"n": n}).event.id
            for n in range(20)
        ]
    expected = len(stored) * len(subscribers)
    kills_mid_fan_out = 0
    for _ in range(15):  # bounded: every round commits at least one fan-out transaction
        before, waiting = fan_out_progress(db)
        if waiting == 0:
            break
        worker = start_worker(db_url, log, **SHORT_LEASE)
        try:
            progress, process = (before, waiting), worker
            wait_until(lambda p=progress, w=process: fan_out_progress(db) != p or w.poll() is not None, 60, 0.005)
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            worker.wait(10)
        written, still_waiting = fan_out_progress(db)
        kills_mid_fan_out += still_waiting > 0
        with db.session(write=False) as s:
            distinct_pairs = s.scalar(
                select(func.count()).select_from(
                    select(Delivery.event_id, Delivery.subscription_id).distinct().subquery()
                )
            )
        assert distinct_pairs == written <= expected
    assert kills_mid_fan_out >= 2, log.read_text()
    last = start_worker(db_url, log, **SHORT_LEASE)
    try:
        wait_until(lambda: fan_out_progress(db) == (expected, 0), timeout=60, interval=0.2)
        wait_until(lambda: unfinished(db) == 0, timeout=240, interval=0.5)
    finally:
        stop(last)
    received = {(r.headers["webhook-id"], r.path) for r in list(receiver.requests)}
    base = urlsplit(receiver.url).path
    assert received == {(event_id, f"{base}/{n}") for event_id in stored for n in range(300)}


def bulk_subscriptions(db: Database, urls: list[str]) -> tuple[int, list[str]]:
    """Subscriptions of tenant acme to accounts.create, one per URL, written in one statement each."""
    from datetime import timedelta

    from connector.storage.models import Subscription, SubscriptionEvent, utcnow

    with db.session() as s:
        tenant = get_or_create_tenant(s, "acme")
        s.flush()
        made = utcnow() - timedelta(seconds=1)
        rows = [
            {
                "id": f"sub_bulk_{n:04d}",
                "tenant_id": tenant.id,
                "target_url": url,
                "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "status": "active",
                "created_via": "api",
                "created_at": made,
                "updated_at": made,
            }
            for n, url in enumerate(urls)
        ]
        s.execute(Subscription.__table__.insert(), rows)
        s.execute(
            SubscriptionEvent.__table__.insert(),
            [{"subscription_id": r["id"], "event_type": "accounts.create", "tenant_id": tenant.id} for r in rows],
        )
        return tenant.id, [r["id"] for r in rows]


def test_three_postgres_workers_never_send_one_delivery_twice_at_once(
    db: Database, db_url: str, receiver: Receiver, log: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several worker processes need PostgreSQL")
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    overlaps: list[str] = []

    def track(request: Received) -> Reply:
        key = request.headers["webhook-id"]
        with lock:
            in_flight[key] += 1
            if in_flight[key] > 1:
                overlaps.append(key)
        return Reply(delay=0.02)

    def done(request: Received) -> None:
        with lock:
            in_flight[request.headers["webhook-id"]] -= 1

    receiver.responder = track
    receiver.after_reply = done
    events = enqueue(db, receiver.url, 600)
    workers = [start_worker(db_url, log) for _ in range(3)]
    try:
        wait_until(lambda: ids_received(receiver) >= events, timeout=120, interval=0.2)
        wait_until(lambda: unfinished(db) == 0, timeout=30)
        with db.session() as s:
            worker_ids = s.scalar(select(func.count(distinct(DeliveryAttempt.worker_id))))
    finally:
        for worker in workers:
            stop(worker)
    assert overlaps == []
    assert len(receiver.requests) == len(events)  # no crash, no expired lease: exactly once
    assert worker_ids is not None and worker_ids >= 2, log.read_text()
