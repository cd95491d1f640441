"""A delivery is never in flight twice: manual retries, recovers and several workers respect leases."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from connector.delivery.worker import Worker
from connector.services import deliveries as delivery_services
from connector.services.errors import Conflict
from connector.services.principal import Principal
from connector.storage import claims
from connector.storage.models import Delivery, DeliveryAttempt

from .conftest import Service, fan_out_all, wait_until
from .receiver import Receiver, Reply

TYPE = "accounts.create"


@pytest.fixture
def workers(service: Service) -> Iterator[Any]:
    started: list[Worker] = []

    def start(**overrides: Any) -> Worker:
        worker = Worker(service.db, service.settings.replace(**overrides), poll_seconds=0.02)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop(20)


def _publish(service: Service) -> str:
    response = service.client().post("/api/v1/events", json={"type": TYPE, "data": {}}, headers=service.auth())
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def _delivery(service: Service) -> Delivery:
    with service.db.session() as session:
        return session.scalars(select(Delivery)).one()


def _attempts(service: Service, delivery_id: str) -> list[DeliveryAttempt]:
    with service.db.session() as session:
        query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        return list(session.scalars(query))


def test_retrying_a_delivery_in_flight_is_409_and_sends_nothing(
    service: Service, receiver: Receiver, workers: Any
) -> None:
    receiver.responder = lambda _r: Reply(200, delay=1.5)
    service.subscribe(receiver.url, TYPE)
    _publish(service)
    workers()
    receiver.wait_for(1, timeout=10)
    delivery = _delivery(service)
    answers = []
    for _ in range(3):  # the reviewer's case: three retries 0.3 s apart while the first POST waits
        answers.append(service.client().post(f"/api/v1/deliveries/{delivery.id}/retry", headers=service.auth()))
        time.sleep(0.3)
    assert [a.status_code for a in answers] == [409, 409, 409]
    error = answers[0].get_json()["error"]
    assert error["code"] == "conflict" and "being attempted right now" in error["message"]
    wait_until(lambda: _delivery(service).status == "succeeded")
    time.sleep(0.3)
    assert len(receiver.requests) == 1
    assert _delivery(service).attempt_count == len(_attempts(service, delivery.id)) == 1
    again = service.client().post(f"/api/v1/deliveries/{delivery.id}/retry", headers=service.auth())
    assert again.status_code == 202  # once the attempt has ended, a retry is taken
    wait_until(lambda: len(receiver.requests) == 2)


def test_no_two_attempts_of_a_delivery_overlap_under_concurrent_retries_recovers_and_workers(
    service: Service, receiver: Receiver, workers: Any
) -> None:
    in_flight: dict[str, int] = {}
    overlaps: list[str] = []
    lock = threading.Lock()

    def responder(request: Any) -> Reply:
        event_id = request.headers["webhook-id"]
        with lock:
            in_flight[event_id] = in_flight.get(event_id, 0) + 1
            if in_flight[event_id] > 1:
                overlaps.append(event_id)
        time.sleep(0.05)
        with lock:
            in_flight[event_id] -= 1
        return Reply(500 if len(receiver.requests) % 3 else 200)

    receiver.responder = responder
    hook = service.subscribe(receiver.url, TYPE)
    for _ in range(5):
        _publish(service)
    assert fan_out_all(service.db) == 5  # the deliveries exist before anyone retries them
    for _ in range(3):
        workers(retry_schedule=(0, 0, 0, 0), retry_scale=1.0)

    def fanned_out() -> list[str]:  # the workers make the deliveries after the ingest
        with service.db.session() as session:
            found = [row.id for row in session.scalars(select(Delivery))]
        return found if len(found) == 5 else []

    ids = wait_until(fanned_out)
    stop = time.monotonic() + 4
    codes: set[int] = set()

    def hammer() -> None:  # bounded: four seconds of retries and recovers, from several clients at once
        client = service.client()
        while time.monotonic() < stop:
            for delivery_id in ids:
                answer = client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=service.auth())
                with lock:
                    codes.add(answer.status_code)
            recover = client.post(
                f"/api/v1/hooks/{hook['id']}/recover", json={"since": "2000-01-01T00:00:00Z"}, headers=service.auth()
            )
            with lock:
                codes.add(recover.status_code)
            time.sleep(0.02)

    clients = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert codes <= {202, 409} and 409 in codes
    wait_until(lambda: all(_delivery_row(service, i).lease_owner is None for i in ids), timeout=20)
    assert overlaps == []
    for delivery_id in ids:
        attempts = _attempts(service, delivery_id)
        assert _delivery_row(service, delivery_id).attempt_count == len(attempts)
        spans = sorted((a.started_at, a.started_at + timedelta(milliseconds=a.duration_ms or 0)) for a in attempts)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end - timedelta(milliseconds=5), f"attempts of {delivery_id} overlap"


def _delivery_row(service: Service, delivery_id: str) -> Delivery:
    with service.db.session() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        return row


def test_a_lease_taken_after_the_retry_read_the_delivery_is_a_409(service: Service) -> None:
    """On PostgreSQL a worker may lease the delivery between the retry's read of it and its update:
    the answer is still a 409 naming the lease, never a server error."""
    service.subscribe("http://127.0.0.1:9/hook", TYPE)
    _publish(service)
    assert fan_out_all(service.db) == 1
    runtime = service.app.extensions["billrun_connector.runtime"]
    principal = Principal("key", "test", admin=False, tenant_id=service.tenant_id, tenant_name="acme")
    session = service.db.sessions()
    try:
        delivery_id = session.scalars(select(Delivery.id)).one()
        read = session.get(Delivery, delivery_id)
        assert read is not None and read.lease_owner is None
        session.commit()  # the session keeps what it read (while referenced): the delivery without a lease
        with service.db.engine.begin() as worker:
            assert [job.delivery_id for job in claims.claim(worker, "worker-1", 10, 40)] == [delivery_id]
        with pytest.raises(Conflict) as refused:
            delivery_services.retry(runtime, session, principal, delivery_id)
        session.rollback()
    finally:
        session.close()
    assert "being attempted right now" in refused.value.message and "its lease ends at" in refused.value.message
    assert _delivery(service).lease_owner == "worker-1"
