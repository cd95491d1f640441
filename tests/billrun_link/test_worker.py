"""The worker keeps BillRun in step on its own: within 10 s of a change, with backoff while BillRun
is down, reusing tokens until they expire; subscribing never waits on BillRun."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from connector.billrun_link import service
from connector.billrun_link.loop import LinkLoop
from connector.billrun_link.reconcile import Reconciler
from connector.delivery.worker import Worker
from connector.storage import billrun_links

from .conftest import SECRET_KEY, Connector, Double, wait_until

TARGET = "http://127.0.0.1:9/hook"


def connected(connector: Connector, double: Double) -> int:
    result = connector.connect(double)
    assert result.exit_code == 0, result.output
    with connector.db.session() as session:
        return billrun_links.list_connection_ids(session)[0]


def token_requests(double: Double) -> int:
    return sum(entry["path"] == "/oauth2/token" for entry in double.log())


@pytest.fixture
def worker(connector: Connector) -> Iterator[Worker]:
    delivery_worker = Worker(connector.db, connector.settings)
    delivery_worker.start()
    yield delivery_worker
    assert delivery_worker.stop(30)


def test_the_worker_reconciles_within_10_seconds(connector: Connector, double: Double, worker: Worker) -> None:
    connected(connector, double)
    started = time.monotonic()
    subscription = connector.subscribe("accounts.trackchanges")
    wait_until(lambda: len(double.webhooks()) == 7, timeout=10)
    connector.unsubscribe(subscription)
    wait_until(lambda: double.webhooks() == [], timeout=10)
    assert time.monotonic() - started < 20


def test_subscribing_never_waits_on_billrun(connector: Connector, double: Double) -> None:
    connected(connector, double)
    double.control("down")
    calls = len(double.log())
    started = time.monotonic()
    subscription = connector.subscribe("subscribers.update")
    connector.unsubscribe(subscription)
    assert time.monotonic() - started < 2
    assert len(double.log()) == calls  # no call to BillRun inside a subscribe or unsubscribe request


@pytest.mark.slow  # waits out a BillRun call that takes 3 s
def test_subscribing_never_waits_on_a_billrun_that_hangs(connector: Connector, double: Double) -> None:
    """A pass stuck in a call to a slow BillRun holds no transaction: subscribe and unsubscribe, through
    both subscription APIs, go on meanwhile (on SQLite too, where one writer waits for another)."""
    connection_id = connected(connector, double)
    reconciler = Reconciler(connector.db, SECRET_KEY, owner="test", retry_scale=0.001)
    connector.subscribe("accounts.create")
    assert reconciler.run(connection_id).created  # its token is cached: the next pass calls create first
    connector.subscribe("accounts.delete")
    double.control("hang", seconds="3")
    passing = threading.Thread(target=reconciler.run, args=(connection_id,), kwargs={"immediate": True})
    passing.start()
    try:
        wait_until(lambda: any(entry["path"] == "/plugins/webhooks/create" for entry in double.log()))
        started = time.monotonic()
        subscription = connector.subscribe("accounts.update")
        client, key = connector.client(), connector.key()
        created = client.post(
            "/plugins/webhooks/create",
            data={"access_token": key, "webhook_module": "plans", "webhook_action": "create", "webhook_url": TARGET},
        ).get_json()
        assert created["status"] == 1, created
        connector.unsubscribe(subscription)
        deleted = client.post(
            f"/plugins/webhooks/delete/{created['webhook']['webhook_id']}", data={"access_token": key}
        )
        assert deleted.get_json()["status"] == 1
        assert time.monotonic() - started < 2.5  # the pass's call to BillRun takes 3 s
    finally:
        passing.join(30)
        double.control("hang", seconds="0")


def test_the_loop_backs_off_while_billrun_is_down_and_recovers(connector: Connector, double: Double) -> None:
    connected(connector, double)
    double.control("down")
    connector.subscribe("subscribers.create")
    loop = LinkLoop(connector.db, connector.settings, owner="test-loop", check_seconds=0.05)
    loop.start()
    try:
        failing = wait_until(lambda: [r for r in connector.status()["registrations"] if r["attempts"] >= 2])
        assert failing[0]["status"] == "failing" and "cannot reach BillRun" in failing[0]["last_error"]
        double.control("up")
        wait_until(lambda: double.pairs() == {("subscribers", "create")})
        wait_until(lambda: connector.status()["counts"]["registered"] == 1)
    finally:
        loop.stop(10)
    assert connector.status()["registrations"][0]["last_error"] is None


def test_tokens_are_reused_until_they_expire_and_replaced_once_when_refused(
    connector: Connector, double: Double
) -> None:
    connection_id = connected(connector, double)
    reconciler = Reconciler(connector.db, SECRET_KEY, owner="test", retry_scale=0.001)
    connector.subscribe("plans.create")
    assert reconciler.run(connection_id).ok
    connector.subscribe("plans.update")
    assert reconciler.run(connection_id).ok
    before = token_requests(double)
    assert reconciler.run(connection_id, verify=True).ok
    assert token_requests(double) == before  # the cached token served every call

    double.control("expire-tokens")
    connector.subscribe("plans.delete")
    result = reconciler.run(connection_id)
    assert result.ok and result.created == [("plans", "delete")]
    assert token_requests(double) == before + 1  # the 401 got exactly one new token
    creates = [entry for entry in double.log() if entry["path"] == "/plugins/webhooks/create"]
    assert len(creates) == 4  # plans.delete was sent twice: refused with 401, then accepted


def test_a_token_is_renewed_when_expires_in_runs_out(connector: Connector, start_double: Callable[..., Double]) -> None:
    short = start_double("--expires-in", "2")  # kept for 1 s (half of a short lifetime)
    connection_id = connected(connector, short)
    reconciler = Reconciler(connector.db, SECRET_KEY, owner="test", retry_scale=0.001)
    assert reconciler.run(connection_id, verify=True).ok
    before = token_requests(short)
    time.sleep(1.2)
    connector.subscribe("taxes.create")
    assert reconciler.run(connection_id).ok
    assert token_requests(short) == before + 1
    assert short.pairs() == {("taxes", "create")}


def test_a_disconnect_billrun_could_not_finish_is_finished_by_the_loop(connector: Connector, double: Double) -> None:
    connected(connector, double)
    connector.subscribe("accounts.create", "accounts.update")
    connector.sync()
    assert len(double.webhooks()) == 2
    double.control("down")
    kept = connector.cli("billrun", "disconnect", "--tenant", "acme")
    assert kept.exit_code == 1 and "the connection is kept" in kept.output
    assert connector.status()["disconnect_requested_at"] is not None
    loop = LinkLoop(connector.db, connector.settings, owner="test-loop", check_seconds=0.05)
    loop.start()
    try:
        time.sleep(0.3)
        assert connector.cli("billrun", "status", "--tenant", "acme").exit_code == 0  # still kept while down
        double.control("up")
        wait_until(lambda: connector.cli("billrun", "status", "--tenant", "acme").exit_code == 2)
    finally:
        loop.stop(10)
    assert double.webhooks() == []  # the subscriptions still exist, but nothing was registered again


def test_two_requests_of_one_process_never_reconcile_a_connection_at_once(connector: Connector, double: Double) -> None:
    connection_id = connected(connector, double)
    first = service.reconciler(connector.db, connector.settings)  # e.g. a sync request of the admin API
    second = service.reconciler(connector.db, connector.settings)  # a disconnect served by another thread
    with connector.db.session() as session:
        assert billrun_links.claim(session, connection_id, first.owner, 60)
    connector.subscribe("accounts.create")
    calls = len(double.log())
    assert second.run(connection_id, immediate=True).busy
    assert len(double.log()) == calls
    with connector.db.session() as session:
        billrun_links.release(session, connection_id, first.owner)
    assert second.run(connection_id, immediate=True).created == [("accounts", "create")]


def test_a_disconnect_the_worker_finishes_while_the_command_waits_is_done(
    connector: Connector, double: Double, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command asks for the disconnect and waits for the worker's pass to end; that pass removes
    the webhooks and forgets the connection: the command reports it done, not "busy"."""
    connection_id = connected(connector, double)
    connector.subscribe("accounts.create")
    loop = Reconciler(connector.db, SECRET_KEY, owner="worker-loop", retry_scale=0.001)
    assert loop.run(connection_id).created == [("accounts", "create")]
    with connector.db.session() as session:
        assert billrun_links.claim(session, connection_id, "worker-loop", 60)  # the worker's pass runs
    monkeypatch.setattr(service, "LEASE_WAIT_SECONDS", 5.0)
    outcome: list[object] = []

    def disconnect() -> None:
        try:
            outcome.append(service.disconnect(connector.db, connector.settings, "acme"))
        except service.LinkError as exc:
            outcome.append(exc)

    command = threading.Thread(target=disconnect)
    command.start()
    try:
        wait_until(lambda: connector.status()["disconnect_requested_at"] is not None)
        assert loop.run(connection_id).forgotten  # the worker's pass sees the request and completes it
    finally:
        command.join(30)
    assert double.webhooks() == []
    (report,) = outcome
    assert isinstance(report, service.DisconnectReport), report
