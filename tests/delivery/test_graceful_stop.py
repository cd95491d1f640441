"""SIGTERM and SIGINT stop `serve` and `worker` gracefully: the delivery in flight finishes and is
recorded, claimed deliveries not yet started are handed back, no lease is left behind, exit status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.storage import Database, events
from connector.storage.models import Delivery
from connector.storage.subscriptions import create_subscription
from connector.storage.tenants import get_or_create_tenant

from .receiver import Receiver, Reply

pytestmark = pytest.mark.slow  # end to end: processes, servers, kill -9; `-m 'not slow'` skips them

CLI = [sys.executable, "-c", "from connector.cli import main; main()"]
COMMANDS = {
    "serve": ["serve", "--port", "0", "--host", "127.0.0.1"],
    "worker": ["worker"],
}


def enqueue(db: Database, url: str, count: int) -> list[str]:
    with db.session() as s:
        tenant = get_or_create_tenant(s, "acme")
        s.flush()
        sub = create_subscription(s, tenant_id=tenant.id, events=["accounts.create"], target_url=url)
        s.flush()
        return [
            events.store_event(
                s,
                tenant_id=tenant.id,
                event_type="accounts.create",
                data={"after": {"aid": n}},
                only_subscription_id=sub.id,
            ).event.id
            for n in range(count)
        ]


def delivery_of(db: Database, event_id: str) -> Delivery:
    with db.session() as s:
        (row,) = s.scalars(select(Delivery).where(Delivery.event_id == event_id))
        return row


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_delivery_finishes_it_and_hands_back_the_rest(
    db: Database, db_url: str, receiver: Receiver, tmp_path: Path, command: str, signum: int
) -> None:
    in_flight, waiting = enqueue(db, receiver.url, 2)
    receiver.responder = lambda _r: Reply(delay=1.5)  # slow: the signal comes while it is in flight
    env = {
        **os.environ,
        "BILLRUN_CONNECTOR_DATABASE_URL": db_url,
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "127.0.0.0/8",
        "BILLRUN_CONNECTOR_SECRET_KEY": "graceful-stop",
        "BILLRUN_CONNECTOR_WORKER_THREADS": "1",  # both are claimed; the second waits for the thread
    }
    log = tmp_path / f"{command}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*CLI, *COMMANDS[command]], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        (request,) = receiver.wait_for(1, timeout=60)
        assert request.headers["webhook-id"] == in_flight
        process.send_signal(signum)
        returncode = process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert returncode == 0, log.read_text()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [in_flight], log.read_text()
    sent, unsent = delivery_of(db, in_flight), delivery_of(db, waiting)
    assert (sent.status, sent.attempt_count, sent.last_status_code) == ("succeeded", 1, 200)
    assert (unsent.status, unsent.attempt_count) == ("pending", 0)
    assert [d.lease_owner for d in (sent, unsent)] == [None, None]
    assert [d.lease_expires_at for d in (sent, unsent)] == [None, None]
