"""REST hooks API: subscribe, read, list, change, rotate, unsubscribe, and every validation error."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from .conftest import TARGET, Key


def post(client: Any, key: Key, body: Any) -> Any:
    return client.post("/api/v1/hooks", json=body, headers=key.headers)


@pytest.mark.parametrize("url_field", ["target_url", "hookUrl", "url"])
@pytest.mark.parametrize(
    ("event_fields", "expected"),
    [
        ({"event": "subscribers.update"}, ["subscribers.update"]),
        ({"events": ["subscribers.update", "accounts.create"]}, ["subscribers.update", "accounts.create"]),
        (
            {"events": "bills.afterChargeSuccess,subscribers.trackchanges"},
            ["bills.afterChargeSuccess", "subscribers.trackchanges"],
        ),
    ],
)
def test_subscribe_accepts_every_field_spelling(
    client: Any, key: Key, url_field: str, event_fields: dict[str, Any], expected: list[str]
) -> None:
    response = post(client, key, {url_field: TARGET, **event_fields})
    assert response.status_code == 201
    body = response.json
    assert body["events"] == expected
    assert body["target_url"] == TARGET
    assert body["status"] == "active"
    assert body["id"].startswith("sub_")
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["created_via"] == "api"
    datetime.fromisoformat(body["created_at"])


def test_subscribe_keeps_description_metadata_and_special_types(client: Any, key: Key) -> None:
    body = {
        "url": TARGET,
        "events": ["collection.*", "collection.send_reminder_sms", "subscribers.trackchanges"],
        "description": "n8n workflow 7",
        "metadata": {"workflow": 7, "test": False},
    }
    created = post(client, key, body).json
    read = client.get(f"/api/v1/hooks/{created['id']}", headers=key.headers).json
    assert read["events"] == body["events"]
    assert read["description"] == "n8n workflow 7"
    assert read["metadata"] == {"workflow": 7, "test": False}
    assert "secret" not in read


def test_same_url_and_events_are_never_merged(client: Any, key: Key, subscribe: Any) -> None:
    first = subscribe("subscribers.update")
    second = subscribe("subscribers.update")
    assert first["id"] != second["id"] and first["secret"] != second["secret"]
    assert client.delete(f"/api/v1/hooks/{first['id']}", headers=key.headers).status_code == 204
    assert client.get(f"/api/v1/hooks/{first['id']}", headers=key.headers).status_code == 410
    assert client.get(f"/api/v1/hooks/{second['id']}", headers=key.headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        ({"events": ["subscribers.update"]}, "target_url", "the target URL is required"),
        ({"target_url": TARGET}, "events", "at least one event type"),
        ({}, "events", "at least one event type"),
        ({"target_url": TARGET, "events": []}, "events", "Length must be between 1 and 50"),
        ({"target_url": TARGET, "events": ["subscribers.nope"]}, "events.0", "subscribers.nope"),
        ({"target_url": TARGET, "events": ["nomodule.update"]}, "events.0", "no module 'nomodule'"),
        ({"target_url": TARGET, "events": ["justaword"]}, "events.0", "<module>.<action>"),
        ({"target_url": TARGET, "events": [5]}, "events.0", "Not a valid string"),
        ({"target_url": TARGET, "event": "subscribers.update", "events": ["accounts.create"]}, "events", "not both"),
        ({"target_url": "ftp://127.0.0.1/x", "event": "subscribers.update"}, "target_url", "http:// or https://"),
        ({"target_url": "http:///nohost", "event": "subscribers.update"}, "target_url", "no host"),
        ({"target_url": "", "event": "subscribers.update"}, "target_url", "empty"),
        ({"target_url": "http://127.0.0.1:99999/x", "event": "subscribers.update"}, "target_url", "not a valid URL"),
        ({"target_url": "http://" + "a" * 2100, "event": "subscribers.update"}, "target_url", "longer than"),
        ({"target_url": "http://10.1.2.3/x", "event": "subscribers.update"}, "target_url", "refused"),
        (
            {"target_url": TARGET, "hookUrl": "http://127.0.0.1:9/other", "event": "subscribers.update"},
            "target_url",
            "differ",
        ),
        ({"target_url": TARGET, "event": "subscribers.update", "color": "red"}, "color", "Unknown field"),
        ({"target_url": TARGET, "event": "subscribers.update", "metadata": "x"}, "metadata", "Not a valid mapping"),
        (
            {"target_url": TARGET, "event": "subscribers.update", "description": "d" * 1001},
            "description",
            "Longer than",
        ),
        ({"target_url": TARGET, "events": ["subscribers.update"] * 51}, "events", "Length must be between 1 and 50"),
    ],
)
def test_subscribe_validation_errors(client: Any, key: Key, body: dict[str, Any], field: str, needle: str) -> None:
    response = post(client, key, body)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert needle in " ".join(error["fields"][field])
    assert needle in error["message"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://hooks.invalid/zap", 201),  # does not resolve now: accepted, checked at every connection
        ("http://localhost.:9/hook", 201),  # loopback, allowed in the test settings
        ("http://100.64.0.1/hook", 422),  # an address literal in a refused range
        ("http://[fd00:ec2::254]/latest", 422),
    ],
)
def test_subscribe_time_ssrf_check(client: Any, key: Key, url: str, status: int) -> None:
    response = post(client, key, {"target_url": url, "event": "subscribers.update"})
    assert response.status_code == status, response.json
    if status == 422:
        assert "refused" in response.json["error"]["fields"]["target_url"][0]


def test_subscribe_rejects_non_object_and_broken_json(client: Any, key: Key) -> None:
    response = post(client, key, ["subscribers.update"])
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    broken = client.post("/api/v1/hooks", data="{not json", headers={**key.headers, "Content-Type": "application/json"})
    assert broken.status_code == 400
    assert broken.json["error"]["code"] == "bad_request"


def test_a_body_that_is_not_json_is_415(client: Any, key: Key) -> None:
    response = client.post("/api/v1/hooks", data={"url": TARGET, "event": "subscribers.update"}, headers=key.headers)
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in response.json["error"]["message"]


def test_read_and_delete_of_unknown_ids_are_404(client: Any, key: Key) -> None:
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)("/api/v1/hooks/sub_missing", json={"status": "active"}, headers=key.headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    response = client.post("/api/v1/hooks/sub_missing/rotate-secret", headers=key.headers)
    assert response.status_code == 404


def test_patch_changes_events_url_status_description_metadata(client: Any, key: Key, subscribe: Any) -> None:
    created = subscribe(["subscribers.update"], description="old", metadata={"a": 1})
    url = f"/api/v1/hooks/{created['id']}"
    response = client.patch(
        url,
        json={
            "events": ["accounts.trackchanges"],
            "hookUrl": "http://127.0.0.1:9/new",
            "status": "disabled",
            "description": None,
        },
        headers=key.headers,
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert body["events"] == ["accounts.trackchanges"]
    assert body["target_url"] == "http://127.0.0.1:9/new"
    assert body["status"] == "disabled" and body["disabled_reason"] == "manual"
    assert body["description"] is None and body["metadata"] == {"a": 1}
    assert "secret" not in body
    assert datetime.fromisoformat(body["updated_at"]) >= datetime.fromisoformat(created["updated_at"])
    enabled = client.patch(url, json={"status": "active", "metadata": {"b": 2}}, headers=key.headers).json
    assert enabled["status"] == "active" and enabled["disabled_reason"] is None and enabled["metadata"] == {"b": 2}
    assert client.get(url, headers=key.headers).json["events"] == ["accounts.trackchanges"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "_schema"),
        ({"status": "paused"}, "status"),
        ({"events": ["nope.nope"]}, "events.0"),
        ({"url": "mailto:x@example.org"}, "target_url"),
        ({"id": "sub_other"}, "id"),
    ],
)
def test_patch_validation_errors(client: Any, key: Key, subscribe: Any, body: dict[str, Any], field: str) -> None:
    created = subscribe()
    response = client.patch(f"/api/v1/hooks/{created['id']}", json=body, headers=key.headers)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_rotate_secret_keeps_the_previous_one_for_the_grace_period(
    client: Any, key: Key, subscribe: Any, app: Any
) -> None:
    created = subscribe()
    response = client.post(f"/api/v1/hooks/{created['id']}/rotate-secret", headers=key.headers)
    assert response.status_code == 200
    rotated = response.json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    grace = timedelta(seconds=app.extensions["billrun_connector.runtime"].settings.rotation_grace_seconds)
    assert abs(expires - datetime.fromisoformat(rotated["updated_at"]) - grace) < timedelta(seconds=5)
    from connector.storage import subscriptions

    from .conftest import app_database

    with app_database(app).session() as session:
        row = subscriptions.get_subscription(session, created["id"], None)
        assert row is not None
        assert row.previous_secret == created["secret"]
        assert subscriptions.valid_secrets(row) == [rotated["secret"], created["secret"]]
        assert subscriptions.valid_secrets(row, now=expires + timedelta(seconds=1)) == [rotated["secret"]]


def test_delete_is_strictly_by_id_and_204(client: Any, key: Key, subscribe: Any) -> None:
    keep = subscribe()
    gone = subscribe()
    response = client.delete(f"/api/v1/hooks/{gone['id']}", headers=key.headers)
    assert response.status_code == 204 and response.data == b""
    again = client.delete(f"/api/v1/hooks/{gone['id']}", headers=key.headers)
    assert again.status_code == 410 and again.json["error"]["code"] == "gone"
    assert f"{gone['id']!r} was already removed (unsubscribed) at " in again.json["error"]["message"]
    listed = client.get("/api/v1/hooks", headers=key.headers).json["data"]
    assert [item["id"] for item in listed] == [keep["id"]]


def test_list_is_paginated_by_cursor(client: Any, key: Key, subscribe: Any) -> None:
    created = [subscribe()["id"] for _ in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while pages < 10:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/hooks", query_string=query, headers=key.headers).json
        seen += [item["id"] for item in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == created
    everything = client.get("/api/v1/hooks", headers=key.headers).json
    assert [item["id"] for item in everything["data"]] == created and everything["next_cursor"] is None
    assert all("secret" not in item for item in everything["data"])


def test_list_filters_by_event(client: Any, key: Key, subscribe: Any) -> None:
    subscribe("subscribers.update")
    wanted = subscribe(["accounts.create", "subscribers.trackchanges"])
    page = client.get("/api/v1/hooks", query_string={"event": "subscribers.trackchanges"}, headers=key.headers).json
    assert [item["id"] for item in page["data"]] == [wanted["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "WyJ4Il0"}, "cursor"),
    ],
)
def test_list_query_errors(client: Any, key: Key, query: dict[str, Any], field: str) -> None:
    response = client.get("/api/v1/hooks", query_string=query, headers=key.headers)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_admin_key_sees_and_changes_every_tenant(client: Any, key: Key, admin_key: Key, subscribe: Any) -> None:
    tenant_hook = subscribe()
    own = subscribe(as_key=admin_key)
    listed = client.get("/api/v1/hooks", headers=admin_key.headers).json["data"]
    assert {item["id"]: item["tenant"] for item in listed} == {tenant_hook["id"]: "acme", own["id"]: "operator"}
    assert client.get(f"/api/v1/hooks/{tenant_hook['id']}", headers=admin_key.headers).status_code == 200
    for_acme = post(client, admin_key, {"url": TARGET, "event": "accounts.create", "tenant": "acme"})
    assert for_acme.status_code == 201 and for_acme.json["tenant"] == "acme"
    assert client.get(f"/api/v1/hooks/{for_acme.json['id']}", headers=key.headers).status_code == 200
    unknown = post(client, admin_key, {"url": TARGET, "event": "accounts.create", "tenant": "nobody"})
    assert unknown.status_code == 422 and "tenant" in unknown.json["error"]["fields"]
    assert client.delete(f"/api/v1/hooks/{tenant_hook['id']}", headers=admin_key.headers).status_code == 204


def test_a_tenant_key_cannot_subscribe_for_another_tenant(client: Any, key: Key, other_key: Key) -> None:
    response = post(client, key, {"url": TARGET, "event": "accounts.create", "tenant": other_key.tenant})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert post(client, key, {"url": TARGET, "event": "accounts.create", "tenant": "acme"}).status_code == 201
