"""What a platform client needs to own its subscriptions: find them by URL, make short-lived
ones, tell a rotated secret, and tell "already removed" (410) from "not yours" (404)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from connector.catalog import get_catalog
from connector.storage import claims, fanout, subscriptions
from connector.storage.deliveries import CANCELLED, PENDING
from connector.storage.events import store_event
from connector.storage.models import Delivery, utcnow

from .conftest import TARGET, Key, app_database


def test_list_filters_by_exact_target_url(client: Any, key: Key, other_key: Key, subscribe: Any) -> None:
    mine = [subscribe(url="http://127.0.0.1:9/n8n/abc")["id"], subscribe(url="http://127.0.0.1:9/n8n/abc")["id"]]
    subscribe(url="http://127.0.0.1:9/n8n/abcd")
    subscribe(url="http://127.0.0.1:9/n8n/abc", as_key=other_key)

    def listed(url: str, as_key: Key = key) -> list[str]:
        response = client.get("/api/v1/hooks", query_string={"target_url": url}, headers=as_key.headers)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["data"]]

    assert listed("http://127.0.0.1:9/n8n/abc") == mine
    assert listed("  http://127.0.0.1:9/n8n/abc ") == mine  # read as subscribe reads it: stripped
    assert listed("http://127.0.0.1:9/n8n/ab") == []
    assert len(listed("http://127.0.0.1:9/n8n/abc", other_key)) == 1
    page = client.get(
        "/api/v1/hooks", query_string={"target_url": "http://127.0.0.1:9/n8n/abc", "limit": 1}, headers=key.headers
    ).json
    assert [item["id"] for item in page["data"]] == mine[:1] and page["next_cursor"]
    empty = client.get("/api/v1/hooks", query_string={"target_url": ""}, headers=key.headers)
    assert empty.status_code == 422 and "target_url" in empty.json["error"]["fields"]


def test_expires_in_sets_expires_at(client: Any, key: Key, subscribe: Any) -> None:
    before = utcnow()
    created = subscribe(expires_in=300)
    expires = datetime.fromisoformat(created["expires_at"])
    assert before + timedelta(seconds=299) <= expires <= utcnow() + timedelta(seconds=301)
    assert client.get(f"/api/v1/hooks/{created['id']}", headers=key.headers).json["expires_at"] == created["expires_at"]
    assert subscribe()["expires_at"] is None


@pytest.mark.parametrize(
    ("value", "needle"),
    [(59, "between 60 and 86400"), (86_401, "between 60 and 86400"), ("300", "Not a valid integer"), (1.5, "integer")],
)
def test_bad_expires_in_is_422(client: Any, key: Key, value: Any, needle: str) -> None:
    response = client.post(
        "/api/v1/hooks",
        json={"target_url": TARGET, "event": "subscribers.update", "expires_in": value},
        headers=key.headers,
    )
    assert response.status_code == 422
    assert needle in " ".join(response.json["error"]["fields"]["expires_in"])


def test_expired_subscription_gets_no_delivery_and_is_removed(app: Any, client: Any, key: Key, subscribe: Any) -> None:
    short = subscribe(expires_in=60)
    lasting = subscribe()
    database = app_database(app)
    with database.session() as session:
        store_event(session, tenant_id=key.tenant_id, event_type="subscribers.update", data={})
    with database.engine.begin() as connection:
        assert fanout.fan_out(connection, get_catalog().subscription_keys, 100).deliveries == 2
    later = utcnow() + timedelta(seconds=61)
    with database.engine.begin() as connection:
        jobs = claims.claim(connection, "w1", 10, 30, now=later)
    assert [job.subscription_id for job in jobs] == [lasting["id"]]
    with database.session() as session:
        statuses = {row.subscription_id: (row.status, row.last_error) for row in session.query(Delivery)}
        assert statuses[short["id"]] == (CANCELLED, "the subscription expired")
        assert statuses[lasting["id"]][0] == PENDING
        assert subscriptions.any_expired(session, now=later)
        assert subscriptions.remove_expired(session, now=later) == 1
        assert not subscriptions.any_expired(session, now=later)
    gone = client.delete(f"/api/v1/hooks/{short['id']}", headers=key.headers)
    assert gone.status_code == 410 and "(expired)" in gone.json["error"]["message"]
    assert client.get(f"/api/v1/hooks/{lasting['id']}", headers=key.headers).status_code == 200


def test_removed_records_are_forgotten_with_retention(app: Any, client: Any, key: Key, subscribe: Any) -> None:
    hook = subscribe()
    assert client.delete(f"/api/v1/hooks/{hook['id']}", headers=key.headers).status_code == 204
    with app_database(app).session() as session:
        assert subscriptions.forget_removed(session, utcnow() - timedelta(days=1)) == 0
        assert subscriptions.forget_removed(session, utcnow() + timedelta(seconds=1)) == 1
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=key.headers).status_code == 404


def test_secret_rotated_at_tells_a_client_its_secret_is_old(client: Any, key: Key, subscribe: Any) -> None:
    created = subscribe()
    assert created["secret_rotated_at"] is None
    rotated = client.post(f"/api/v1/hooks/{created['id']}/rotate-secret", headers=key.headers).json
    moment = datetime.fromisoformat(rotated["secret_rotated_at"])
    assert moment >= datetime.fromisoformat(created["created_at"])
    assert rotated["previous_secret_expires_at"] and rotated["secret"] != created["secret"]
    read = client.get(f"/api/v1/hooks/{created['id']}", headers=key.headers).json
    assert read["secret_rotated_at"] == rotated["secret_rotated_at"]
