"""BillRun-compatible plugin API: every request form, the quirks BillRun clients rely on, validation."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import TARGET, Key

CREATE = {"webhook_module": "subscribers", "webhook_action": "update", "webhook_url": TARGET}


def create_via(client: Any, key: Key, form: str, params: dict[str, str], action: str = "create") -> Any:
    path = f"/plugins/webhooks/{action}"
    if form == "get-query":
        return client.get(path, query_string=params, headers=key.headers)
    if form == "post-form":
        return client.post(path, data=params, headers=key.headers)
    if form == "post-json":
        return client.post(path, json=params, headers=key.headers)
    if form == "put-query":
        return client.put(path, query_string=params, headers=key.headers)
    raise AssertionError(form)


@pytest.mark.parametrize("form", ["get-query", "post-form", "post-json", "put-query"])
def test_create_read_update_delete_in_every_form(client: Any, key: Key, form: str) -> None:
    created = create_via(client, key, form, {**CREATE, "webhook_id": "hook_1"})
    assert created.status_code == 200
    assert created.mimetype == "application/json"
    body = created.json
    assert body["status"] == 1
    webhook = body["webhook"]
    assert {k: webhook[k] for k in ("webhook_module", "webhook_action", "webhook_url", "webhook_id")} == {
        **CREATE,
        "webhook_id": "hook_1",
    }
    assert webhook["webhook_secret"].startswith("whsec_")

    read = create_via(client, key, form, {}, action="read/hook_1").json
    assert read["status"] == 1 and read["webhook"]["webhook_id"] == "hook_1" and "webhook_secret" not in read["webhook"]

    updated = create_via(
        client, key, form, {"webhook_url": "http://127.0.0.1:9/new", "webhook_action": "create"}, action="update/hook_1"
    ).json
    assert updated["status"] == 1
    assert updated["webhook"]["webhook_url"] == "http://127.0.0.1:9/new"
    assert updated["webhook"]["webhook_action"] == "create" and updated["webhook"]["webhook_module"] == "subscribers"

    deleted = create_via(client, key, form, {}, action="delete/hook_1").json
    assert deleted == {"status": 1, "webhook_id": "hook_1"}
    assert create_via(client, key, form, {}, action="read/hook_1").json["status"] == 0


def test_action_is_case_insensitive(client: Any, key: Key) -> None:
    body = client.get("/plugins/webhooks/CrEaTe", query_string=CREATE, headers=key.headers).json
    assert body["status"] == 1
    webhook_id = body["webhook"]["webhook_id"]
    assert client.get(f"/plugins/webhooks/READ/{webhook_id}", headers=key.headers).json["status"] == 1
    assert client.post(f"/plugins/webhooks/Delete/{webhook_id}", headers=key.headers).json == {
        "status": 1,
        "webhook_id": webhook_id,
    }


def test_generated_id_is_word_characters_and_reaches_rest_api(client: Any, key: Key) -> None:
    webhook = client.post("/plugins/webhooks/create", data=CREATE, headers=key.headers).json["webhook"]
    assert re.fullmatch(r"\w+", webhook["webhook_id"])
    hook = client.get(f"/api/v1/hooks/{webhook['webhook_id']}", headers=key.headers).json
    assert hook["events"] == ["subscribers.update"] and hook["created_via"] == "plugin"
    assert hook["target_url"] == TARGET


def test_rest_subscriptions_are_visible_through_the_plugin(client: Any, key: Key, subscribe: Any) -> None:
    hook = subscribe(["accounts.create", "accounts.update"])
    webhook = client.get(f"/plugins/webhooks/read/{hook['id']}", headers=key.headers).json["webhook"]
    assert webhook["webhook_module"] == "accounts" and webhook["webhook_action"] == "create"
    assert webhook["webhook_events"] == ["accounts.create", "accounts.update"]
    listed = client.get("/plugins/webhooks/list", headers=key.headers).json
    assert listed["status"] == 1 and [w["webhook_id"] for w in listed["webhooks"]] == [hook["id"]]


def test_update_accepts_the_double_underscore_alias(client: Any, key: Key) -> None:
    client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "alias_1"}, headers=key.headers)
    body = client.post(
        "/plugins/webhooks/update/alias_1", data={"webhook__url": "http://127.0.0.1:9/alias"}, headers=key.headers
    ).json
    assert body["status"] == 1 and body["webhook"]["webhook_url"] == "http://127.0.0.1:9/alias"
    both = client.post(
        "/plugins/webhooks/update/alias_1",
        data={"webhook__url": "http://127.0.0.1:9/ignored", "webhook_url": "http://127.0.0.1:9/preferred"},
        headers=key.headers,
    ).json
    assert both["webhook"]["webhook_url"] == "http://127.0.0.1:9/preferred"
    assert body["webhook"]["webhook_action"] == "update"


def test_id_may_come_from_the_webhook_id_parameter(client: Any, key: Key) -> None:
    client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "param_1"}, headers=key.headers)
    assert (
        client.get("/plugins/webhooks/read", query_string={"webhook_id": "param_1"}, headers=key.headers).json["status"]
        == 1
    )


def test_trackchanges_is_accepted_and_stored_as_the_group(client: Any, key: Key) -> None:
    body = client.get(
        "/plugins/webhooks/create", query_string={**CREATE, "webhook_action": "trackchanges"}, headers=key.headers
    ).json
    assert body["status"] == 1 and body["webhook"]["webhook_action"] == "trackchanges"
    hook = client.get(f"/api/v1/hooks/{body['webhook']['webhook_id']}", headers=key.headers).json
    assert hook["events"] == ["subscribers.trackchanges"]


def test_custom_collection_step_and_case_of_names(client: Any, key: Key) -> None:
    step = client.post(
        "/plugins/webhooks/create",
        data={"webhook_module": "collection", "webhook_action": "send_reminder_sms", "webhook_url": TARGET},
        headers=key.headers,
    ).json
    assert step["status"] == 1 and step["webhook"]["webhook_action"] == "send_reminder_sms"
    bills = client.post(
        "/plugins/webhooks/create",
        data={"webhook_module": "bills", "webhook_action": "afterchargesuccess", "webhook_url": TARGET},
        headers=key.headers,
    ).json
    assert bills["status"] == 1 and bills["webhook"]["webhook_action"] == "afterChargeSuccess"


def test_wildcards_every_event_and_every_action_of_a_module(client: Any, key: Key) -> None:
    everything = client.post(
        "/plugins/webhooks/create",
        data={"webhook_module": "*", "webhook_action": "*", "webhook_url": TARGET, "webhook_id": "all_1"},
        headers=key.headers,
    ).json
    assert everything["status"] == 1, everything
    assert (everything["webhook"]["webhook_module"], everything["webhook"]["webhook_action"]) == ("*", "*")
    read = client.get("/plugins/webhooks/read/all_1", headers=key.headers).json["webhook"]
    assert (read["webhook_module"], read["webhook_action"], read["webhook_events"]) == ("*", "*", ["*"])
    moved = client.post("/plugins/webhooks/update/all_1", data={"webhook_url": TARGET + "2"}, headers=key.headers).json
    assert moved["status"] == 1 and moved["webhook"]["webhook_events"] == ["*"]
    narrowed = client.post("/plugins/webhooks/update/all_1", data={"webhook_module": "accounts"}, headers=key.headers)
    assert narrowed.json["webhook"]["webhook_events"] == ["accounts.*"]  # the action stays *: every accounts action
    module = client.post(
        "/plugins/webhooks/create",
        data={"webhook_module": "subscribers", "webhook_action": "*", "webhook_url": TARGET},
        headers=key.headers,
    ).json
    assert module["status"] == 1 and module["webhook"]["webhook_events"] == ["subscribers.*"]
    listed = client.get(
        "/plugins/webhooks/list",
        query_string={"webhook_module": "subscribers", "webhook_action": "*"},
        headers=key.headers,
    )
    assert [w["webhook_id"] for w in listed.json["webhooks"]] == [module["webhook"]["webhook_id"]]
    half = client.post(
        "/plugins/webhooks/create",
        data={"webhook_module": "*", "webhook_action": "update", "webhook_url": TARGET},
        headers=key.headers,
    ).json
    assert half == {"status": 0, "message": "webhook_module '*' takes webhook_action '*' (every event), not 'update'"}


def test_list_filters_by_module_and_action(client: Any, key: Key) -> None:
    client.post("/plugins/webhooks/create", data=CREATE, headers=key.headers)
    other = client.post(
        "/plugins/webhooks/create", data={**CREATE, "webhook_module": "accounts"}, headers=key.headers
    ).json
    listed = client.get(
        "/plugins/webhooks/list",
        query_string={"webhook_module": "accounts", "webhook_action": "update"},
        headers=key.headers,
    ).json
    assert [w["webhook_id"] for w in listed["webhooks"]] == [other["webhook"]["webhook_id"]]


@pytest.mark.parametrize(
    ("action", "params", "needle"),
    [
        ("create", {**CREATE, "webhook_id": "bad-id"}, "invalid webhook_id 'bad-id'"),
        ("create", {**CREATE, "webhook_id": "x" * 65}, "invalid webhook_id"),
        ("create", {k: v for k, v in CREATE.items() if k != "webhook_module"}, "webhook_module is required"),
        ("create", {k: v for k, v in CREATE.items() if k != "webhook_action"}, "webhook_action is required"),
        ("create", {k: v for k, v in CREATE.items() if k != "webhook_url"}, "webhook_url is required"),
        ("create", {**CREATE, "webhook_module": "nosuch"}, "unknown webhook_module 'nosuch'"),
        (
            "create",
            {**CREATE, "webhook_action": "explode"},
            "unknown webhook_action 'explode' for module 'subscribers'",
        ),
        (
            "create",
            {**CREATE, "webhook_module": "Subscribers", "webhook_action": "x"},
            "known actions: close, closeandnew",
        ),
        (
            "create",
            {**CREATE, "webhook_url": "javascript:alert(1)"},
            "webhook_url: the target URL must start with http",
        ),
        ("create", {**CREATE, "webhook_url": "http://169.254.169.254/latest"}, "refused"),
        ("read/bad-id", {}, "invalid webhook_id 'bad-id'"),
        ("read", {}, "a webhook id is required"),
        ("read/unknown_id", {}, "no webhook with id 'unknown_id'"),
        ("update/unknown_id", {"webhook_url": TARGET}, "no webhook with id 'unknown_id'"),
        ("delete/unknown_id", {}, "no webhook with id 'unknown_id'"),
        ("delete/a.b", {}, "invalid webhook_id 'a.b'"),
    ],
)
def test_failures_answer_status_0_with_a_message(
    client: Any, key: Key, action: str, params: dict[str, str], needle: str
) -> None:
    response = client.post(f"/plugins/webhooks/{action}", data=params, headers=key.headers)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == 0
    assert needle in body["message"]


def test_update_validates_the_new_values(client: Any, key: Key) -> None:
    client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "upd_1"}, headers=key.headers)
    bad_url = client.post(
        "/plugins/webhooks/update/upd_1", data={"webhook__url": "gopher://x"}, headers=key.headers
    ).json
    assert bad_url["status"] == 0 and "webhook_url" in bad_url["message"]
    bad_action = client.post(
        "/plugins/webhooks/update/upd_1", data={"webhook_action": "nope"}, headers=key.headers
    ).json
    assert bad_action["status"] == 0 and "unknown webhook_action 'nope'" in bad_action["message"]
    assert client.get("/plugins/webhooks/read/upd_1", headers=key.headers).json["webhook"]["webhook_url"] == TARGET


def test_duplicate_id_is_refused_within_a_tenant(client: Any, key: Key) -> None:
    assert (
        client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "dup"}, headers=key.headers).json[
            "status"
        ]
        == 1
    )
    again = client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "dup"}, headers=key.headers).json
    assert again["status"] == 0 and again["message"] == "this tenant already has a webhook with id 'dup'"


def test_webhook_ids_are_a_tenants_own(client: Any, key: Key, other_key: Key) -> None:
    """Another tenant's id neither collides nor shows: both create "dup", each reads and deletes its own."""
    mine = client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "dup"}, headers=key.headers).json
    theirs = client.post(
        "/plugins/webhooks/create",
        data={**CREATE, "webhook_id": "dup", "webhook_url": "http://127.0.0.1:9/theirs"},
        headers=other_key.headers,
    ).json
    assert mine["status"] == theirs["status"] == 1
    assert mine["webhook"]["webhook_id"] == theirs["webhook"]["webhook_id"] == "dup"
    assert client.get("/plugins/webhooks/read/dup", headers=key.headers).json["webhook"]["webhook_url"] == TARGET
    assert client.get("/plugins/webhooks/read/dup", headers=other_key.headers).json["webhook"]["webhook_url"] == (
        "http://127.0.0.1:9/theirs"
    )
    assert client.post("/plugins/webhooks/delete/dup", headers=other_key.headers).json == {
        "status": 1,
        "webhook_id": "dup",
    }
    assert client.get("/plugins/webhooks/read/dup", headers=key.headers).json["status"] == 1
    assert client.get("/plugins/webhooks/read/dup", headers=other_key.headers).json["status"] == 0


def test_json_body_must_be_an_object(client: Any, key: Key) -> None:
    body = client.post("/plugins/webhooks/create", json=["x"], headers=key.headers).json
    assert body["status"] == 0 and "JSON body must be an object" in body["message"]


def test_unknown_action_is_404(client: Any, key: Key) -> None:
    response = client.get("/plugins/webhooks/explode", headers=key.headers)
    assert response.status_code == 404
    assert response.json["status"] == 0 and "unknown action 'explode'" in response.json["message"]


@pytest.mark.parametrize("how", ["bearer", "x-api-key", "query", "form"])
def test_every_way_of_passing_the_key(client: Any, key: Key, how: str) -> None:
    path = "/plugins/webhooks/create"
    if how == "bearer":
        response = client.post(path, data=CREATE, headers={"Authorization": f"Bearer {key.key}"})
    elif how == "x-api-key":
        response = client.post(path, data=CREATE, headers={"X-API-Key": key.key})
    elif how == "query":
        response = client.post(path, data=CREATE, query_string={"access_token": key.key})
    else:
        response = client.post(path, data={**CREATE, "access_token": key.key})
    assert response.status_code == 200 and response.json["status"] == 1


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer brc_wrong"}, {"X-API-Key": "nope"}, {"Authorization": "Basic eDp5"}]
)
def test_missing_or_wrong_key_is_401_status_0(client: Any, headers: dict[str, str]) -> None:
    response = client.post("/plugins/webhooks/create", data=CREATE, headers=headers)
    assert response.status_code == 401
    body = response.json
    assert body["status"] == 0 and body["code"] == 17574 and "API key" in body["message"]


def test_tenants_are_isolated(client: Any, key: Key, other_key: Key, admin_key: Key) -> None:
    client.post("/plugins/webhooks/create", data={**CREATE, "webhook_id": "mine"}, headers=key.headers)
    for action in ("read/mine", "delete/mine"):
        assert client.post(f"/plugins/webhooks/{action}", headers=other_key.headers).json["status"] == 0
    update = client.post(
        "/plugins/webhooks/update/mine", data={"webhook_url": "http://127.0.0.1:9/stolen"}, headers=other_key.headers
    )
    assert update.json["status"] == 0
    assert client.get("/plugins/webhooks/list", headers=other_key.headers).json["webhooks"] == []
    assert client.get("/plugins/webhooks/read/mine", headers=key.headers).json["webhook"]["webhook_url"] == TARGET
    assert [
        w["webhook_id"] for w in client.get("/plugins/webhooks/list", headers=admin_key.headers).json["webhooks"]
    ] == ["mine"]
    assert client.get("/plugins/webhooks/read/mine", headers=admin_key.headers).json["status"] == 1
