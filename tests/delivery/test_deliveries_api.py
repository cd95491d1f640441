"""The integrator and operator API: publish, test send, delivery log, retry, recover, metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import standardwebhooks
from sqlalchemy import func, select

from connector.delivery.worker import Worker
from connector.storage.models import Delivery, Event, utcnow

from .conftest import Service, fan_out_all, make_settings, wait_until
from .receiver import Receiver, Reply

EVENT = {"type": "accounts.create", "data": {"after": {"aid": 5, "firstname": "Ann"}, "modifiedUser": "crm"}}


@pytest.fixture
def worker(service: Service, db_url: str) -> Iterator[Any]:
    started: list[Worker] = []

    def start(**overrides: Any) -> Worker:
        w = Worker(service.db, make_settings(db_url, **overrides), poll_seconds=0.05)
        w.start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop(10)


def count(service: Service, model: Any) -> int:
    with service.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_publish_needs_a_key(service: Service) -> None:
    assert service.client().post("/api/v1/events", json=EVENT).status_code == 401


def test_publish_is_idempotent_on_id(service: Service, receiver: Receiver) -> None:
    service.subscribe(receiver.url, "accounts.create")
    client = service.client()
    first = client.post("/api/v1/events", json={**EVENT, "id": "crm-42"}, headers=service.auth())
    again = client.post("/api/v1/events", json={**EVENT, "id": "crm-42", "data": {"other": 1}}, headers=service.auth())
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert first.get_json()["fanout"] == "pending" and first.get_json()["deliveries"] is None
    assert first.get_json()["id"].startswith("evt_")
    fan_out_all(service.db)
    repeat = client.post("/api/v1/events", json={**EVENT, "id": "crm-42"}, headers=service.auth()).get_json()
    assert repeat["id"] == first.get_json()["id"] and repeat["fanout"] == "done" and repeat["deliveries"] == 1
    assert count(service, Event) == 1 and count(service, Delivery) == 1
    other_tenant, other_key = service.add_tenant("globex")
    theirs = client.post("/api/v1/events", json={**EVENT, "id": "crm-42"}, headers=service.auth(other_key))
    assert theirs.status_code == 202 and theirs.get_json()["id"] != first.get_json()["id"]


def test_publish_with_timestamp_and_flagged_payload(service: Service) -> None:
    body = {"type": "accounts.create", "data": {"after": {"aid": "x"}}, "timestamp": "2024-01-31T00:00:00"}
    answer = service.client().post("/api/v1/events", json=body, headers=service.auth()).get_json()
    assert answer["timestamp"] == "2024-01-31T00:00:00Z"
    assert answer["schema_valid"] is False and answer["validation_errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "nosuch.thing", "data": {}},
        {"type": "subscribers.trackchanges", "data": {}},
        {"type": "accounts.create"},
        {"type": "accounts.create", "data": [1]},
        {"type": "accounts.create", "data": {}, "id": "has space"},
        {"type": "accounts.create", "data": {}, "timestamp": "yesterday"},
    ],
)
def test_publish_rejects_bad_requests(service: Service, body: dict[str, Any]) -> None:
    response = service.client().post("/api/v1/events", json=body, headers=service.auth())
    assert response.status_code == 422 and response.get_json()["error"]["fields"]


def test_publish_strict_mode_quarantines(make_service: Any) -> None:
    service = make_service(strict_schemas=True)
    service.subscribe("http://127.0.0.1:9/hook", "accounts.create")
    body = {"type": "accounts.create", "data": {"after": {"aid": "x"}}}
    response = service.client().post("/api/v1/events", json=body, headers=service.auth())
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    assert answer["fanout"] == "quarantined" and answer["schema_valid"] is False and answer["validation_errors"]
    assert fan_out_all(service.db) == 0


def test_test_send_reaches_only_that_hook(service: Service, receiver: Receiver, worker: Any) -> None:
    hook = service.subscribe(receiver.url, "subscribers.trackchanges")
    service.subscribe(receiver.url + "/other", "subscribers.trackchanges")
    response = service.client().post(f"/api/v1/hooks/{hook['id']}/test", json={}, headers=service.auth())
    assert response.status_code == 202 and response.get_json()["deliveries"] == 1
    assert response.get_json()["type"].startswith("subscribers.")
    worker()
    (got,) = receiver.wait_for(1)
    assert got.path == "/hook" and got.headers["webhook-id"] == response.get_json()["id"]
    standardwebhooks.Webhook(hook["secret"]).verify(got.body, got.headers)
    typed = service.client().post(
        f"/api/v1/hooks/{hook['id']}/test", json={"type": "accounts.create"}, headers=service.auth()
    )
    assert typed.status_code == 422


def test_delivery_log_retry_and_recover(service: Service, receiver: Receiver, worker: Any) -> None:
    hook = service.subscribe(receiver.url, "accounts.create")
    client = service.client()
    for n in range(3):
        client.post("/api/v1/events", json={**EVENT, "id": f"e{n}"}, headers=service.auth())
    receiver.responder = lambda _r: Reply(500, body=b"down for maintenance")
    w = worker(retry_schedule=(0,))
    wait_until(
        lambda: (
            client.get(f"/api/v1/hooks/{hook['id']}/deliveries?status=failed", headers=service.auth())
            .get_json()["data"]
            .__len__()
            == 3
        )
    )
    w.stop(10)

    page1 = client.get(f"/api/v1/hooks/{hook['id']}/deliveries?limit=2", headers=service.auth()).get_json()
    assert len(page1["data"]) == 2 and page1["next_cursor"]
    page2 = client.get(
        f"/api/v1/hooks/{hook['id']}/deliveries?limit=2&cursor={page1['next_cursor']}", headers=service.auth()
    ).get_json()
    assert len(page2["data"]) == 1 and page2["next_cursor"] is None
    ids = [d["id"] for d in page1["data"] + page2["data"]]
    assert len(set(ids)) == 3
    assert (
        client.get(f"/api/v1/hooks/{hook['id']}/deliveries?status=succeeded", headers=service.auth()).get_json()["data"]
        == []
    )
    assert client.get(f"/api/v1/hooks/{hook['id']}/deliveries?status=bogus", headers=service.auth()).status_code == 422

    detail = client.get(f"/api/v1/deliveries/{ids[0]}", headers=service.auth()).get_json()
    assert detail["status"] == "failed" and detail["event_type"] == "accounts.create"
    assert detail["event"]["id"] == detail["event_id"]
    (attempt,) = detail["attempts"]
    assert attempt["status_code"] == 500 and attempt["response_excerpt"] == "down for maintenance"
    assert attempt["duration_ms"] is not None and attempt["started_at"]

    receiver.responder = lambda _r: Reply(200)
    retried = client.post(f"/api/v1/deliveries/{ids[0]}/retry", headers=service.auth())
    assert retried.status_code == 202 and retried.get_json()["status"] == "pending"
    since = (utcnow() - timedelta(hours=1)).isoformat()
    recovered = client.post(f"/api/v1/hooks/{hook['id']}/recover", json={"since": since}, headers=service.auth())
    assert recovered.status_code == 202 and recovered.get_json() == {"recovered": 2}
    worker(retry_schedule=(0,))
    receiver.wait_for(6)
    wait_until(
        lambda: (
            len(
                client.get(
                    f"/api/v1/hooks/{hook['id']}/deliveries?status=succeeded", headers=service.auth()
                ).get_json()["data"]
            )
            == 3
        )
    )
    by_id: dict[str, set[str]] = {}
    for r in receiver.requests:
        by_id.setdefault(r.headers["webhook-id"], set()).add(r.body.decode())
    assert len(by_id) == 3 and all(len(bodies) == 1 for bodies in by_id.values())  # replays carry the same id and body


def test_retry_and_recover_need_an_active_hook(service: Service) -> None:
    hook = service.subscribe("http://127.0.0.1:9/hook", "accounts.create")
    client = service.client()
    client.post("/api/v1/events", json=EVENT, headers=service.auth())
    fan_out_all(service.db)
    delivery_id = client.get(f"/api/v1/hooks/{hook['id']}/deliveries", headers=service.auth()).get_json()["data"][0][
        "id"
    ]
    assert (
        client.patch(f"/api/v1/hooks/{hook['id']}", json={"status": "disabled"}, headers=service.auth()).status_code
        == 200
    )
    assert client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=service.auth()).status_code == 409
    assert (
        client.post(
            f"/api/v1/hooks/{hook['id']}/recover", json={"since": "2024-01-01T00:00:00Z"}, headers=service.auth()
        ).status_code
        == 409
    )
    assert client.post(f"/api/v1/hooks/{hook['id']}/test", json={}, headers=service.auth()).status_code == 409
    assert client.post(f"/api/v1/hooks/{hook['id']}/recover", json={}, headers=service.auth()).status_code == 422


def test_other_tenants_cannot_see_or_touch(service: Service) -> None:
    hook = service.subscribe("http://127.0.0.1:9/hook", "accounts.create")
    client = service.client()
    client.post("/api/v1/events", json=EVENT, headers=service.auth())
    fan_out_all(service.db)
    delivery_id = client.get(f"/api/v1/hooks/{hook['id']}/deliveries", headers=service.auth()).get_json()["data"][0][
        "id"
    ]
    _, other = service.add_tenant("globex")
    for method, path in [
        ("get", f"/api/v1/hooks/{hook['id']}/deliveries"),
        ("get", f"/api/v1/deliveries/{delivery_id}"),
        ("post", f"/api/v1/deliveries/{delivery_id}/retry"),
        ("post", f"/api/v1/hooks/{hook['id']}/test"),
    ]:
        assert getattr(client, method)(path, headers=service.auth(other), json={}).status_code == 404, path
    assert client.get("/api/v1/deliveries/dlv_nosuch", headers=service.auth()).status_code == 404


def test_metrics(service: Service, receiver: Receiver) -> None:
    service.subscribe(receiver.url, "accounts.create")
    service.client().post("/api/v1/events", json=EVENT, headers=service.auth())
    fan_out_all(service.db)
    text = service.client().get("/metrics").get_data(as_text=True)
    assert 'billrun_connector_deliveries{status="pending"} 1.0' in text
    assert "billrun_connector_queue_depth 1.0" in text
    assert "billrun_connector_queue_oldest_due_age_seconds" in text
    assert 'billrun_connector_events_ingested_total{path="api"}' in text
    assert "billrun_connector_delivery_attempt_duration_seconds_bucket" in text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://169.254.169.254/latest", "metadata"),
        ("http://100.64.1.1/hook", "carrier-grade NAT"),
    ],
)
def test_subscribe_time_ssrf_refusal_is_a_clear_422(make_service: Any, url: str, reason: str) -> None:
    service = make_service(allowed_networks=())
    response = service.client().post(
        "/api/v1/hooks", json={"target_url": url, "events": ["accounts.create"]}, headers=service.auth()
    )
    assert response.status_code == 422
    assert reason in json.dumps(response.get_json())
