"""The console's BillRun page: connect with good and bad credentials (nothing stored), the webhooks the
connector keeps, sync, disconnect; admin keys only, and the client secret never shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from console.conftest import Console

from .conftest import CLIENT_ID, CLIENT_SECRET, Connector, Double


@dataclass(frozen=True)
class SignInKey:
    key: str


@pytest.fixture
def admin(connector: Connector) -> Console:
    console = Console(connector.client())
    console.sign_in(SignInKey(connector.key("acme", admin=True)))  # type: ignore[arg-type]
    return console


def connect_form(double: Double, **changes: str) -> dict[str, str]:
    return {
        "url": double.url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "ingest_base_url": "http://connector.test",
        "collection_steps": "Send letter\r\nCall customer\r\n",
        **changes,
    }


def test_connect_sync_and_disconnect_from_the_console(connector: Connector, double: Double, admin: Console) -> None:
    assert "Connect to BillRun" in admin.text("/billrun")
    connector.subscribe("accounts.create", "collection.*")
    connected = admin.post("/billrun", connect_form(double))
    page = connected.get_data(as_text=True)
    assert connected.status_code == 200, page
    assert "Connected to BillRun at" in page and "<code>accounts.create</code>" in page
    assert double.pairs() == {
        ("accounts", "create"),
        ("collection", "in_collection"),
        ("collection", "out_of_collection"),
        ("collection", "Send letter"),
        ("collection", "Call customer"),
    }
    assert CLIENT_SECRET not in page and CLIENT_SECRET not in admin.text("/billrun")
    assert connector.status()["collection_steps"] == ["Send letter", "Call customer"]

    double.control(f"delete/{double.webhooks()[0]['webhook_id']}")  # behind the connector's back
    synced = admin.post("/billrun/sync").get_data(as_text=True)
    assert "Lost by BillRun, registered again" in synced and len(double.webhooks()) == 5

    gone = admin.post("/billrun/disconnect")
    assert gone.status_code == 303
    assert "is disconnected" in admin.text("/billrun") and double.webhooks() == []
    assert connector.cli("billrun", "status", "--tenant", "acme").exit_code == 2


@pytest.mark.parametrize(
    ("changes", "code", "flags"),
    [
        ({"client_secret": "Wr0ng-S3cret"}, "bad_credentials", ()),
        ({"url": "http://127.0.0.1:9"}, "billrun_unreachable", ()),
        ({"url": "ftp://billrun.example"}, "bad_url", ()),
        ({}, "plugin_not_enabled", ("--plugin-disabled",)),
    ],
)
def test_a_refused_connect_says_why_and_stores_nothing(
    connector: Connector,
    start_double: Callable[..., Double],
    admin: Console,
    changes: dict[str, str],
    code: str,
    flags: tuple[str, ...],
) -> None:
    double = start_double(*flags)
    refused = admin.post("/billrun", connect_form(double, **changes))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert f"Not done ({code})" in page
    assert f'value="{changes.get("url", double.url)}"' in page  # the form keeps what was typed, but the secret
    assert "Wr0ng-S3cret" not in page and CLIENT_SECRET not in page
    assert connector.cli("billrun", "status", "--tenant", "acme").exit_code == 2


def test_a_disconnect_billrun_cannot_finish_keeps_the_connection_until_forced(
    connector: Connector, double: Double, admin: Console
) -> None:
    connector.subscribe("accounts.create")
    assert admin.post("/billrun", connect_form(double)).status_code == 200
    double.control("down")
    kept = admin.post("/billrun/disconnect")
    assert kept.status_code == 409 and "the connection is kept" in kept.get_data(as_text=True)
    assert "Forget it anyway" in admin.text("/billrun")
    forced = admin.post("/billrun/disconnect", {"force": "true"})
    assert forced.status_code == 303
    assert "BillRun may still hold these webhooks" in admin.text("/billrun")


def test_only_admin_keys_see_and_use_the_page(connector: Connector, double: Double) -> None:
    console = Console(connector.client())
    console.sign_in(SignInKey(connector.key("acme")))  # type: ignore[arg-type]
    assert 'href="/billrun"' not in console.text("/")
    assert console.get("/billrun").status_code == 403
    assert console.post("/billrun", connect_form(double)).status_code == 403
    assert double.log() == []
