"""A hand corpus of hostile inputs against every endpoint that reads JSON: a clear 4xx, never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Key

DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
HOSTILE_BODIES = [
    pytest.param(DEEP, id="list-10000-deep"),
    pytest.param(DEEP_OBJECT, id="object-10000-deep"),
    pytest.param(b'{"events": ["accounts.create"], "target_url": "http://127.0.0.1:9/x", "n": NaN}', id="nan"),
    pytest.param(b'{"data": {"n": Infinity}, "type": "accounts.create"}', id="infinity"),
    pytest.param(b'{"n": ' + b"9" * 5000 + b"}", id="int-5000-digits"),
    pytest.param(b'{"a": "\xff\xfe"}', id="invalid-utf8"),
    pytest.param(b'{"a": "\\ud800"}', id="lone-surrogate"),
    pytest.param(b'"just a string"', id="not-an-object"),
    pytest.param(b"{" + b'"k": 1,' * 50_000 + b'"k": 2}', id="many-keys"),
    pytest.param(b'{"since": "0001-01-01T00:00:00+08:04"}', id="since-before-year-1"),
    pytest.param(b'{"since": "9999-12-31T23:59:59-01:00"}', id="since-after-year-9999"),
    pytest.param(b'{"type": "accounts.create", "data": {}, "timestamp": "0001-01-01T00:00:00+08:04"}', id="ts-low"),
    pytest.param(b'{"type": "accounts.create", "data": {}, "timestamp": "9999-12-31T23:59:59-01:00"}', id="ts-high"),
]


@pytest.fixture
def hook_id(subscribe: Any) -> str:
    return subscribe()["id"]


def _endpoints(hook_id: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/v1/hooks"),
        ("PATCH", f"/api/v1/hooks/{hook_id}"),
        ("POST", "/api/v1/events"),
        ("POST", f"/api/v1/hooks/{hook_id}/test"),
        ("POST", f"/api/v1/hooks/{hook_id}/recover"),
        ("POST", "/plugins/webhooks/create"),
        ("POST", f"/plugins/webhooks/update/{hook_id}"),
        ("POST", "/plugins/webhooks/list"),
    ]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_json_is_a_clear_client_error(client: Any, key: Key, hook_id: str, body: bytes) -> None:
    headers = {**key.headers, "Content-Type": "application/json"}
    for method, path in _endpoints(hook_id):
        response = client.open(path, method=method, data=body, headers=headers)
        assert response.status_code < 500, (method, path, response.status_code, response.get_data()[:300])
        answer = response.get_json()
        assert answer is not None, (method, path)
        message = answer.get("message") or answer.get("error", {}).get("message")
        if response.status_code >= 400 or answer.get("status") == 0:
            assert message, (method, path, answer)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (DEEP, "_request", "nests deeper than 32 levels"),
        (b'{"n": NaN}', "_request", "NaN is not a JSON number"),
    ],
)
def test_the_refusal_names_the_limit(client: Any, key: Key, body: bytes, field: str, words: str) -> None:
    response = client.post("/api/v1/events", data=body, headers={**key.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert words in response.get_json()["error"]["message"]


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+08:04", "9999-12-31T23:59:59-01:00"])
def test_times_outside_the_calendar_are_422_naming_the_field(client: Any, key: Key, hook_id: str, since: str) -> None:
    response = client.post(f"/api/v1/hooks/{hook_id}/recover", json={"since": since}, headers=key.headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "since" in error["fields"] and "years 1 to 9999" in error["message"]


def test_a_cursor_with_an_extreme_time_is_refused(client: Any, key: Key) -> None:
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps(["0001-01-01T00:00:00+08:04", "x"]).encode()).decode()
    response = client.get(f"/api/v1/hooks?cursor={cursor}", headers=key.headers)
    assert response.status_code == 422 and "cursor" in response.get_json()["error"]["fields"]


def test_lone_surrogates_become_the_replacement_character(client: Any, key: Key) -> None:
    """Valid JSON syntax but no UTF-8 text: kept as U+FFFD, so the event can be signed and delivered."""
    body = (
        b'{"type": "accounts.create", "data": {"modifiedUser": "crm\\ud800", "after": {"n\\udfff": "\\ud83d\\ude00"}}}'
    )
    response = client.post("/api/v1/events", data=body, headers={**key.headers, "Content-Type": "application/json"})
    assert response.status_code == 202, response.get_json()
    event_id = response.get_json()["id"]
    samples = client.get("/api/v1/events/accounts.create/samples?limit=1", headers=key.headers).get_json()
    assert samples[0]["id"] == event_id
    assert samples[0]["data"] == {"modifiedUser": "crm\ufffd", "after": {"n\ufffd": "\U0001f600"}}
