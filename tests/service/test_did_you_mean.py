"""A mistyped event type gets "did you mean ..." from every interface that reads one.

One function of the catalog (``Catalog.unknown``, difflib) makes the suggestion; these tests check
that each interface passes it on: the REST hooks API, the plugin API, ``GET /api/v1/events/<type>``,
``POST /api/v1/events`` and the command line (``sample``, ``schema``, ``fire``, ``validate --type``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.catalog import get_catalog
from connector.cli import main

from .conftest import TARGET, Key

TYPO = "subscriber.updte"
MEANT = "subscribers.update"


def test_the_catalog_suggests_the_closest_name_of_the_kind_asked_for() -> None:
    catalog = get_catalog()
    assert catalog.unknown(TYPO).suggestion == MEANT
    assert catalog.unknown("Accounts.Create", concrete=True).suggestion == "accounts.create"
    assert catalog.unknown("subscribers.*", concrete=True).suggestion is None  # known, only not concrete
    assert "stands for every action of subscribers" in str(catalog.unknown("subscribers.*", concrete=True))
    far = catalog.unknown("zzzz.qqqq")
    assert far.suggestion is None and "modules: accounts, subscribers" in str(far)


def test_rest_hooks_subscribe(client: Any, key: Key) -> None:
    response = client.post("/api/v1/hooks", json={"target_url": TARGET, "event": TYPO}, headers=key.headers)
    assert response.status_code == 422
    assert response.json["error"]["fields"]["events.0"] == [
        f"unknown event type '{TYPO}': no module 'subscriber'; did you mean '{MEANT}'? (GET /api/v1/events lists them)"
    ]


def test_event_type_detail(client: Any, key: Key) -> None:
    response = client.get(f"/api/v1/events/{TYPO}", headers=key.headers)
    assert response.status_code == 404
    assert response.json["error"]["message"] == (
        f"unknown event type '{TYPO}': no module 'subscriber'; did you mean '{MEANT}'? (GET /api/v1/events lists them)"
    )


def test_publishing_an_event(client: Any, key: Key) -> None:
    response = client.post("/api/v1/events", json={"type": "accounts.crate", "data": {}}, headers=key.headers)
    assert response.status_code == 422
    assert "did you mean 'accounts.create'?" in str(response.json["error"]["fields"]["type"])


@pytest.mark.parametrize(
    ("module", "action", "meant"),
    [
        ("subscriber", "update", "did you mean webhook_module=subscribers?"),
        ("subscribers", "updte", "did you mean webhook_action=update?"),
        ("subscriber", "updte", "did you mean webhook_module=subscribers and webhook_action=update?"),
    ],
)
def test_plugin_api_create(client: Any, key: Key, module: str, action: str, meant: str) -> None:
    answer = client.get(
        "/plugins/webhooks/create",
        query_string={"webhook_module": module, "webhook_action": action, "webhook_url": TARGET},
        headers=key.headers,
    ).json
    assert answer["status"] == 0 and meant in answer["message"], answer


@pytest.mark.parametrize(
    "args",
    [
        ["sample", TYPO],
        ["schema", TYPO],
        ["fire", TYPO, "--url", "http://127.0.0.1:9/"],
        ["validate", "{file}", "--type", TYPO],
    ],
    ids=["sample", "schema", "fire", "validate"],
)
def test_command_line(tmp_path: Path, args: list[str]) -> None:
    payload = tmp_path / "payload.json"
    payload.write_text("{}")
    result = CliRunner().invoke(main, [arg.format(file=payload) for arg in args])
    assert result.exit_code == 2
    assert f"did you mean '{MEANT}'? (`billrun-connector catalog` lists them)" in result.output


def test_fire_names_the_members_of_a_group() -> None:
    result = CliRunner().invoke(main, ["fire", "subscribers.trackchanges", "--url", "http://127.0.0.1:9/"])
    assert result.exit_code == 2
    assert "'subscribers.trackchanges' stands for any of subscribers.create, subscribers.update" in result.output
