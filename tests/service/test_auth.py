"""API keys on the REST API: the three ways to pass one, wrong and revoked keys, tenant isolation."""

from __future__ import annotations

from typing import Any

import pytest

from connector.storage import tenants

from .conftest import TARGET, Key, app_database

PROTECTED = [
    ("get", "/api/v1/me"),
    ("get", "/api/v1/hooks"),
    ("post", "/api/v1/hooks"),
    ("get", "/api/v1/hooks/sub_x"),
    ("patch", "/api/v1/hooks/sub_x"),
    ("delete", "/api/v1/hooks/sub_x"),
    ("post", "/api/v1/hooks/sub_x/rotate-secret"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/events/subscribers.update"),
    ("get", "/api/v1/events/subscribers.update/samples"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer brc_not_a_key"}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer "}]
)
def test_every_management_endpoint_needs_a_valid_key(
    client: Any, key: Key, method: str, path: str, headers: dict[str, str]
) -> None:
    response = getattr(client, method)(path, json={}, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("how", ["bearer", "x-api-key", "query", "form"])
def test_key_in_header_or_parameter(client: Any, key: Key, how: str) -> None:
    if how == "bearer":
        response = client.get("/api/v1/me", headers={"Authorization": f"bearer {key.key}"})
    elif how == "x-api-key":
        response = client.get("/api/v1/me", headers={"X-API-Key": key.key})
    elif how == "query":
        response = client.get("/api/v1/me", query_string={"access_token": key.key})
    else:
        response = client.post("/api/v1/hooks/sub_x/rotate-secret", data={"access_token": key.key})
        assert response.status_code == 404  # authenticated, then the id is unknown
        return
    assert response.status_code == 200
    assert response.json == {
        "tenant": {"id": key.tenant_id, "name": "acme"},
        "key": {"id": key.key_id, "label": "zapier", "admin": False},
    }


def test_me_reports_admin_keys(client: Any, admin_key: Key) -> None:
    assert client.get("/api/v1/me", headers=admin_key.headers).json["key"]["admin"] is True


def test_revoked_key_is_refused_and_use_is_recorded(client: Any, app: Any, key: Key) -> None:
    assert client.get("/api/v1/me", headers=key.headers).status_code == 200
    with app_database(app).session() as session:
        (row,) = tenants.list_keys(session, "acme")
        assert row.last_used_at is not None
        tenants.revoke_key(session, key.key_id)
    response = client.get("/api/v1/me", headers=key.headers)
    assert response.status_code == 401
    assert "revoked" in response.json["error"]["message"]


def test_only_the_hash_is_stored(app: Any, key: Key) -> None:
    with app_database(app).session() as session:
        (row,) = tenants.list_keys(session, "acme")
        assert row.key_hash == tenants.hash_key(key.key) != key.key
        assert key.key.startswith(row.prefix) and len(row.prefix) < len(key.key) // 3


def test_another_tenants_subscription_is_404_everywhere(client: Any, key: Key, other_key: Key, subscribe: Any) -> None:
    hook = subscribe()
    path = f"/api/v1/hooks/{hook['id']}"
    assert client.get(path, headers=other_key.headers).status_code == 404
    assert client.patch(path, json={"url": "http://127.0.0.1:9/stolen"}, headers=other_key.headers).status_code == 404
    assert client.post(f"{path}/rotate-secret", headers=other_key.headers).status_code == 404
    assert client.delete(path, headers=other_key.headers).status_code == 404
    assert client.delete(path, headers=key.headers).status_code == 204
    for method in ("get", "delete"):  # removed: Gone to its tenant, still nothing to another
        assert getattr(client, method)(path, headers=other_key.headers).status_code == 404
        assert getattr(client, method)(path, headers=key.headers).status_code == 410
    hook = subscribe()
    path = f"/api/v1/hooks/{hook['id']}"
    assert client.get("/api/v1/hooks", headers=other_key.headers).json == {"data": [], "next_cursor": None}
    assert (
        client.get("/api/v1/hooks", query_string={"event": "subscribers.update"}, headers=other_key.headers).json[
            "data"
        ]
        == []
    )
    unchanged = client.get(path, headers=key.headers).json
    assert unchanged["target_url"] == TARGET and unchanged["previous_secret_expires_at"] is None


def test_me_names_each_tenant(client: Any, key: Key, other_key: Key) -> None:
    assert client.get("/api/v1/me", headers=other_key.headers).json["tenant"]["name"] == "globex"
    assert client.get("/api/v1/me", headers=key.headers).json["tenant"]["name"] == "acme"
