"""Catalog and samples endpoints (``/api/v1/events``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from connector import ids
from connector.catalog import get_catalog
from connector.storage.models import Event, utcnow

from .conftest import Key, app_database


def store_events(app: Any, tenant_id: int, types: list[str]) -> list[str]:
    """Store one event per type, oldest first, the way the ingest path does; returns their ids."""
    start = utcnow() - timedelta(minutes=len(types))
    made = []
    with app_database(app).session() as session:
        for offset, event_type in enumerate(types):
            event = Event(
                id=ids.event_id(),
                tenant_id=tenant_id,
                type=event_type,
                timestamp=start + timedelta(minutes=offset),
                data={"n": offset},
                source="test",
                created_at=start + timedelta(minutes=offset),
            )
            session.add(event)
            made.append(event.id)
    return made


def test_catalog_lists_every_type(client: Any, key: Key) -> None:
    body = client.get("/api/v1/events", headers=key.headers).json
    listed = {item["type"]: item for item in body["data"]}
    assert list(listed) == [entry.type for entry in get_catalog().types()]
    update = listed["subscribers.update"]
    assert (
        update["title"] == "Subscriber Updated" and update["kind"] == "event" and update["key"] == "subscribers_update"
    )
    group = listed["subscribers.trackchanges"]
    assert group["kind"] == "group" and "subscribers.update" in group["expands_to"]
    assert listed["collection.*"]["kind"] == "module" and listed["collection.*"]["action_pattern"]


def test_event_type_detail_has_schema_and_samples(client: Any, key: Key) -> None:
    body = client.get("/api/v1/events/subscribers.update", headers=key.headers).json
    assert body["type"] == "subscribers.update"
    assert body["schema"] == get_catalog().schema("subscribers.update")
    assert body["samples"] and all(sample["type"] == "subscribers.update" for sample in body["samples"])


def test_unknown_type_is_404(client: Any, key: Key) -> None:
    for path in ("/api/v1/events/nope.nope", "/api/v1/events/nope.nope/samples"):
        response = client.get(path, headers=key.headers)
        assert response.status_code == 404 and "nope.nope" in response.json["error"]["message"]


def test_samples_fall_back_to_the_schema(client: Any, key: Key) -> None:
    body = client.get("/api/v1/events/bills.afterChargeSuccess/samples", headers=key.headers).json
    assert body == get_catalog().samples("bills.afterChargeSuccess")[:10]
    assert all({"id", "type", "timestamp", "data"} <= set(item) for item in body)


def test_samples_are_the_tenants_newest_stored_events(client: Any, app: Any, key: Key, other_key: Key) -> None:
    ids_ = store_events(
        app, key.tenant_id, ["subscribers.update", "accounts.create", "subscribers.update", "subscribers.update"]
    )
    store_events(app, other_key.tenant_id, ["subscribers.update"])
    body = client.get("/api/v1/events/subscribers.update/samples", query_string={"limit": 2}, headers=key.headers).json
    assert [item["id"] for item in body] == [ids_[3], ids_[2]]
    assert body[0] == {"id": ids_[3], "type": "subscribers.update", "timestamp": body[0]["timestamp"], "data": {"n": 3}}
    assert body[0]["timestamp"].endswith("Z")
    others = client.get("/api/v1/events/subscribers.update/samples", headers=other_key.headers).json
    assert len(others) == 1 and others[0]["id"] not in ids_


def test_group_samples_come_from_member_types(client: Any, app: Any, key: Key) -> None:
    ids_ = store_events(app, key.tenant_id, ["subscribers.create", "accounts.update", "subscribers.close"])
    body = client.get("/api/v1/events/subscribers.trackchanges/samples", headers=key.headers).json
    assert [item["id"] for item in body] == [ids_[2], ids_[0]]
    assert [item["type"] for item in body] == ["subscribers.close", "subscribers.create"]


def test_module_samples_hold_every_action_of_the_module(client: Any, app: Any, key: Key) -> None:
    ids_ = store_events(
        app, key.tenant_id, ["collection.send_sms", "collection.in_collection", "collection.call_customer"]
    )
    body = client.get("/api/v1/events/collection.*/samples", headers=key.headers).json
    assert [item["id"] for item in body] == [ids_[2], ids_[1], ids_[0]]
    one_step = client.get("/api/v1/events/collection.send_sms/samples", headers=key.headers).json
    assert [item["id"] for item in one_step] == [ids_[0]]
    unseen = client.get("/api/v1/events/collection.never_run/samples", headers=key.headers).json
    assert unseen and all(item["type"] == "collection.never_run" for item in unseen)


def test_wildcards_in_the_catalog_endpoint_cover_types_it_does_not_know(client: Any, app: Any, key: Key) -> None:
    ids_ = store_events(app, key.tenant_id, ["subscribers.archive", "warehouse.restock", "subscribers.update"])
    everything = client.get("/api/v1/events/*", headers=key.headers).json
    assert everything["kind"] == "all" and everything["schema"] and everything["samples"]
    assert [item["id"] for item in client.get("/api/v1/events/*/samples", headers=key.headers).json] == ids_[::-1]
    module = client.get("/api/v1/events/subscribers.*/samples", headers=key.headers).json
    assert [item["type"] for item in module] == ["subscribers.update", "subscribers.archive"]
    assert client.get("/api/v1/events/warehouse.*", headers=key.headers).status_code == 404


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_samples_limit_is_validated(client: Any, key: Key, limit: str) -> None:
    response = client.get(
        "/api/v1/events/subscribers.update/samples", query_string={"limit": limit}, headers=key.headers
    )
    assert response.status_code == 422 and "limit" in response.json["error"]["fields"]
