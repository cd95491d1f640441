"""``/api/v1/tenants/<tenant>/billrun``: the same operations for an admin key; the secret is write-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .conftest import CLIENT_ID, CLIENT_SECRET, Connector, Double

PATH = "/api/v1/tenants/acme/billrun"


def body(double: Double, **changes: Any) -> dict[str, Any]:
    return {"url": double.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **changes}


def test_connect_status_sync_and_disconnect(connector: Connector, double: Double) -> None:
    admin = connector.auth("operator", admin=True)
    client = connector.client()
    connector.subscribe("subscribers.update")
    assert client.get(PATH, headers=admin).status_code == 404

    put = client.put(PATH, json=body(double, collection_steps=["Send letter"]), headers=admin)
    assert put.status_code == 200, put.get_json()
    view = put.get_json()
    assert view["last_pass"]["created"] == ["subscribers.update"] and view["last_pass"]["ok"] is True
    assert view["collection_steps"] == ["Send letter"]
    assert "client_secret" not in view and CLIENT_SECRET not in put.get_data(as_text=True)

    connector.subscribe("collection.*")
    synced = client.post(PATH + "/sync", headers=admin)
    assert synced.status_code == 200
    assert set(synced.get_json()["last_pass"]["created"]) == {
        "collection.in_collection",
        "collection.out_of_collection",
        "collection.Send letter",
    }
    status = client.get(PATH, headers=admin)
    assert status.status_code == 200 and status.get_json()["counts"]["registered"] == 4
    assert CLIENT_SECRET not in status.get_data(as_text=True)

    assert client.delete(PATH, headers=admin).status_code == 204
    assert double.webhooks() == []
    assert client.get(PATH, headers=admin).status_code == 404


def test_bad_connections_are_clear_4xx_and_store_nothing(
    connector: Connector, double: Double, start_double: Callable[..., Double]
) -> None:
    admin = connector.auth("operator", admin=True)
    client = connector.client()
    disabled = start_double("--plugin-disabled")
    for payload, code in (
        (body(double, client_secret="wrong"), "bad_credentials"),
        (body(disabled), "plugin_not_enabled"),
        (body(double, url="http://127.0.0.1:9"), "billrun_unreachable"),
        (body(double, url="not a url"), "bad_url"),
        (body(double, ingest_base_url="ftp://x"), "invalid_input"),
    ):
        answer = client.put(PATH, json=payload, headers=admin)
        assert answer.status_code == 422, (payload, answer.get_json())
        assert answer.get_json()["error"]["code"] == code
        assert client.get(PATH, headers=admin).status_code == 404
    missing = client.put(PATH, json={"url": double.url}, headers=admin)
    assert missing.status_code == 422 and "client_secret" in missing.get_json()["error"]["fields"]


def test_only_admin_keys_manage_connections(connector: Connector, double: Double) -> None:
    client = connector.client()
    tenant_key = connector.auth("acme")
    assert client.put(PATH, json=body(double), headers=tenant_key).status_code == 403
    assert client.get(PATH, headers=tenant_key).status_code == 403
    assert client.post(PATH + "/sync", headers=tenant_key).status_code == 403
    assert client.get(PATH).status_code == 401
    assert double.log() == []


def test_disconnect_while_billrun_is_down_is_a_conflict_unless_forced(connector: Connector, double: Double) -> None:
    admin = connector.auth("operator", admin=True)
    client = connector.client()
    connector.subscribe("accounts.create")
    assert client.put(PATH, json=body(double), headers=admin).status_code == 200
    double.control("down")
    kept = client.delete(PATH, headers=admin)
    assert kept.status_code == 409 and kept.get_json()["error"]["code"] == "billrun_unreachable"
    assert client.get(PATH, headers=admin).status_code == 200
    assert client.delete(PATH + "?force=true", headers=admin).status_code == 204
    assert client.get(PATH, headers=admin).status_code == 404
