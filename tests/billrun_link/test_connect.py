"""``billrun connect``: proves the credentials and the plugin API, or refuses with exit 2 and stores nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from connector.billrun_link import secret_box
from connector.storage.models import BillrunConnection, BillrunRegistration, IngestToken, Tenant

from .conftest import CLIENT_SECRET, SECRET_KEY, Connector, Double


def stored(connector: Connector) -> dict[str, int]:
    with connector.db.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (BillrunConnection, BillrunRegistration, IngestToken, Tenant)
        }


def test_connect_with_good_credentials_registers_the_subscribed_pairs(connector: Connector, double: Double) -> None:
    connector.subscribe("subscribers.update")
    result = connector.connect(double)
    assert result.exit_code == 0, result.output
    assert "made ingest URL ing_" in result.output and "registered: subscribers.update" in result.output
    (webhook,) = double.webhooks()
    assert (webhook["webhook_module"], webhook["webhook_action"]) == ("subscribers", "update")
    assert re.fullmatch(r"[A-Za-z0-9_]+", webhook["webhook_id"])
    assert webhook["webhook_url"].startswith("http://connector.test/ingest/billrun/")
    status = connector.status()
    assert status["counts"]["registered"] == 1
    assert status["registrations"][0]["webhook_id"] == webhook["webhook_id"]
    # The client secret is stored encrypted with the connector's secret key, and never shown.
    with connector.db.session() as session:
        row = session.scalars(select(BillrunConnection)).one()
        assert CLIENT_SECRET not in row.client_secret_encrypted
        assert secret_box.decrypt(SECRET_KEY, row.client_secret_encrypted) == CLIENT_SECRET
    assert CLIENT_SECRET not in result.output
    assert CLIENT_SECRET not in connector.cli("billrun", "status", "--tenant", "acme").output
    assert CLIENT_SECRET not in str(status)


def test_connect_uses_the_tenants_existing_ingest_url(connector: Connector, double: Double) -> None:
    made = connector.cli("ingest-url", "--tenant", "acme", "--source", "crm")
    assert made.exit_code == 0, made.output
    result = connector.connect(double)
    assert result.exit_code == 0, result.output
    assert "using ingest URL ing_" in result.output
    assert stored(connector)["ingest_tokens"] == 1


def test_wrong_client_secret_is_refused_and_nothing_is_stored(connector: Connector, double: Double) -> None:
    before = stored(connector)
    result = connector.connect(double, "newco", secret="wrong")
    assert result.exit_code == 2
    assert "bad_credentials" in result.output and "refused the client id and secret" in result.output
    assert stored(connector) == before
    assert "wrong" not in result.output.replace("wrong_", "")
    # The form body was tried first, then HTTP Basic.
    assert [entry["auth"] for entry in double.log() if entry["path"] == "/oauth2/token"] == ["form", "basic"]


def test_http_basic_is_the_fallback(connector: Connector, start_double: Callable[..., Double]) -> None:
    basic_only = start_double("--basic-only")
    connector.subscribe("accounts.create")
    result = connector.connect(basic_only)
    assert result.exit_code == 0, result.output
    assert basic_only.pairs() == {("accounts", "create")}
    styles = [entry["auth"] for entry in basic_only.log() if entry["path"] == "/oauth2/token"]
    assert styles[:2] == ["form", "basic"] and set(styles[2:]) <= {"basic"}


def test_plugin_not_enabled_is_refused(connector: Connector, start_double: Callable[..., Double]) -> None:
    disabled = start_double("--plugin-disabled")
    before = stored(connector)
    result = connector.connect(disabled, "newco")
    assert result.exit_code == 2
    assert "plugin_not_enabled" in result.output and "enable the webhooks plugin" in result.output
    assert stored(connector) == before


@pytest.fixture
def not_billrun() -> Iterator[str]:
    """A plain static file server: answers, but not as BillRun."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    match = re.search(r"port (\d+)", process.stdout.readline())
    assert match
    yield f"http://127.0.0.1:{match.group(1)}"
    process.terminate()
    process.wait(10)


def test_a_url_that_is_not_billrun_is_refused(connector: Connector, not_billrun: str) -> None:
    before = stored(connector)
    result = connector.cli(
        "billrun", "connect", "--tenant", "newco", "--url", not_billrun, "--client-id", "x", "--client-secret", "y"
    )
    assert result.exit_code == 2
    assert "not_billrun" in result.output and "is this BillRun's URL?" in result.output
    assert stored(connector) == before


def test_unreachable_and_unusable_urls_are_refused(connector: Connector) -> None:
    before = stored(connector)
    for url, code in (
        ("http://127.0.0.1:9", "billrun_unreachable"),
        ("ftp://billrun.example", "bad_url"),
        ("http://169.254.169.254", "bad_url"),  # a cloud metadata address: no BillRun lives there
    ):
        result = connector.cli(
            "billrun", "connect", "--tenant", "newco", "--url", url, "--client-id", "x", "--client-secret", "y"
        )
        assert result.exit_code == 2, result.output
        assert code in result.output
    assert stored(connector) == before


def test_reconnect_replaces_the_credentials_and_keeps_the_registrations(connector: Connector, double: Double) -> None:
    connector.subscribe("subscribers.update")
    assert connector.connect(double).exit_code == 0
    ids = [w["webhook_id"] for w in double.webhooks()]
    again = connector.connect(double, "acme", "--collection-step", "Send letter")
    assert again.exit_code == 0, again.output
    assert [w["webhook_id"] for w in double.webhooks()] == ids
    assert connector.status()["collection_steps"] == ["Send letter"]
