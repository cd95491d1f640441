"""Registrations follow subscriptions: both subscription APIs, groups and wildcards, lost webhooks,
BillRun down, token expiry, revoked ingest URLs, disconnect, and tenants kept apart."""

from __future__ import annotations

from collections.abc import Callable

import requests
from sqlalchemy import func, select

from connector.billrun_link.pairs import wanted_pairs
from connector.billrun_link.webhook_ids import webhook_id
from connector.catalog import get_catalog
from connector.storage.models import BillrunConnection, BillrunRegistration

from .conftest import CLIENT_ID, CLIENT_SECRET, Connector, Double

SUBSCRIBER_ACTIONS = {"create", "update", "closeandnew", "close", "move", "delete", "permanentchange", "reopen"}


def connected(connector: Connector, double: Double, tenant: str = "acme", *extra: str) -> None:
    result = connector.connect(double, tenant, *extra)
    assert result.exit_code == 0, result.output


def synced(connector: Connector, tenant: str = "acme") -> str:
    result = connector.sync(tenant)
    assert result.exit_code == 0, result.output
    return result.output


def test_subscribe_and_unsubscribe_through_the_rest_hooks_api(connector: Connector, double: Double) -> None:
    connected(connector, double)
    assert double.webhooks() == []
    first = connector.subscribe("subscribers.update", "accounts.create")
    second = connector.subscribe("subscribers.update")
    synced(connector)
    assert double.pairs() == {("subscribers", "update"), ("accounts", "create")}
    assert len(double.webhooks()) == 2  # one webhook per pair, however many subscriptions share it

    connector.unsubscribe(first)
    synced(connector)
    assert double.pairs() == {("subscribers", "update")}
    connector.unsubscribe(second)
    synced(connector)
    assert double.webhooks() == []
    assert connector.status()["registrations"] == []


def test_subscribe_and_unsubscribe_through_the_plugin_api(connector: Connector, double: Double) -> None:
    connected(connector, double)
    client = connector.client()
    key = connector.key()
    created = client.post(
        "/plugins/webhooks/create",
        data={
            "access_token": key,
            "webhook_module": "bills",
            "webhook_action": "afterChargeSuccess",
            "webhook_url": "http://127.0.0.1:9/hook",
        },
    ).get_json()
    assert created["status"] == 1, created
    synced(connector)
    assert double.pairs() == {("bills", "afterChargeSuccess")}
    deleted = client.post(f"/plugins/webhooks/delete/{created['webhook']['webhook_id']}", data={"access_token": key})
    assert deleted.get_json()["status"] == 1
    synced(connector)
    assert double.webhooks() == []


def test_groups_and_wildcards_expand_to_what_billrun_fires(connector: Connector, double: Double) -> None:
    connected(connector, double, "acme", "--collection-step", "Send letter", "--collection-step", "Call customer")
    group = connector.subscribe("subscribers.trackchanges")
    synced(connector)
    assert double.pairs() == {("subscribers", action) for action in SUBSCRIBER_ACTIONS}
    assert all(w["webhook_action"] != "trackchanges" for w in double.webhooks())

    connector.unsubscribe(group)
    never_fired = connector.subscribe("balances.afterBalanceCreation")
    collection = connector.subscribe("collection.*")
    synced(connector)
    assert double.pairs() == {
        ("collection", "in_collection"),
        ("collection", "out_of_collection"),
        ("collection", "Send letter"),
        ("collection", "Call customer"),
    }
    connector.unsubscribe(collection)
    connector.unsubscribe(never_fired)
    synced(connector)
    assert double.webhooks() == []


def test_wanted_pairs_of_every_kind_of_name() -> None:
    catalog = get_catalog()
    everything = wanted_pairs(catalog, ["*"], ["Send letter"])
    fired = {(e.module, e.action) for e in catalog.types() if e.kind == "event" and e.fired_by_billrun}
    assert everything == fired | {("collection", "Send letter")}
    assert ("balances", "afterBalanceCreation") not in everything
    assert wanted_pairs(catalog, ["bills.*"], []) == {p for p in fired if p[0] == "bills"}
    assert wanted_pairs(catalog, ["collection.Send letter"], []) == {("collection", "Send letter")}
    assert wanted_pairs(catalog, ["lines.trackchanges"], ["x"]) == {("lines", "delete")}


def test_a_webhook_lost_by_billrun_is_registered_again(connector: Connector, double: Double) -> None:
    connector.subscribe("accounts.update")
    connected(connector, double)
    (webhook,) = double.webhooks()
    double.control(f"delete/{webhook['webhook_id']}")  # behind the connector's back
    assert double.webhooks() == []
    output = synced(connector)
    assert "lost by BillRun, registered again: accounts.update" in output
    assert double.webhooks() == [webhook]  # same id, same URL


def test_a_create_whose_answer_was_lost_makes_no_duplicate(connector: Connector, double: Double) -> None:
    connected(connector, double)
    prefix = connector.status()["webhook_id_prefix"]
    taken = webhook_id(prefix, "accounts", "create")
    # A create that reached BillRun but whose answer never came back (with an outdated URL).
    with requests.Session() as http:
        token = http.post(
            double.url + "/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            timeout=10,
        ).json()["access_token"]
        http.post(
            double.url + "/plugins/webhooks/create",
            data={
                "webhook_id": taken,
                "webhook_module": "accounts",
                "webhook_action": "create",
                "webhook_url": "http://old",
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    connector.subscribe("accounts.create")
    synced(connector)
    (webhook,) = double.webhooks()
    assert webhook["webhook_id"] == taken
    assert webhook["webhook_url"].startswith("http://connector.test/ingest/billrun/")


def test_recovery_after_billrun_was_down(connector: Connector, double: Double) -> None:
    connected(connector, double)
    connector.subscribe("subscribers.create")
    double.control("down")
    failed = connector.sync()
    assert failed.exit_code == 1
    status = connector.status()
    assert "cannot reach BillRun" in status["last_error"]
    double.control("up")
    synced(connector)
    assert double.pairs() == {("subscribers", "create")}
    status = connector.status()
    assert status["last_error"] is None and status["counts"] == {
        "registered": 1,
        "pending": 0,
        "removing": 0,
        "failing": 0,
    }


def test_an_expired_token_is_replaced_once(connector: Connector, double: Double) -> None:
    connected(connector, double)
    connector.subscribe("plans.update")
    double.control("expire-tokens")
    synced(connector)
    assert double.pairs() == {("plans", "update")}


def test_a_revoked_ingest_url_is_replaced_in_billrun(connector: Connector, double: Double) -> None:
    connector.subscribe("rates.update")
    connected(connector, double)
    old = connector.status()["ingest_url_id"]
    (before,) = double.webhooks()
    assert connector.cli("ingest-urls", "revoke", old).exit_code == 0
    output = synced(connector)
    assert "updated to the current ingest URL: rates.update" in output
    (after,) = double.webhooks()
    assert after["webhook_id"] == before["webhook_id"] and after["webhook_url"] != before["webhook_url"]
    assert connector.status()["ingest_url_id"] != old


def test_disconnect_leaves_nothing_behind(connector: Connector, double: Double) -> None:
    connector.subscribe("subscribers.trackchanges", "collection.*")
    connected(connector, double)
    assert len(double.webhooks()) == 10
    result = connector.cli("billrun", "disconnect", "--tenant", "acme")
    assert result.exit_code == 0, result.output
    assert double.webhooks() == []
    with connector.db.session() as session:
        for model in (BillrunConnection, BillrunRegistration):
            assert session.scalar(select(func.count()).select_from(model)) == 0
    assert connector.cli("billrun", "status", "--tenant", "acme").exit_code == 2


def test_disconnect_while_billrun_is_down_keeps_the_connection_unless_forced(
    connector: Connector, double: Double
) -> None:
    connector.subscribe("accounts.create")
    connected(connector, double)
    double.control("down")
    kept = connector.cli("billrun", "disconnect", "--tenant", "acme")
    assert kept.exit_code == 1 and "the connection is kept" in kept.output
    assert connector.status()["counts"]["failing"] == 1
    forced = connector.cli("billrun", "disconnect", "--tenant", "acme", "--force")
    assert forced.exit_code == 1 and "BillRun may still hold these webhooks" in forced.output
    assert connector.cli("billrun", "status", "--tenant", "acme").exit_code == 2


def test_one_tenants_sync_never_touches_another_tenants_billrun(
    connector: Connector, start_double: Callable[..., Double]
) -> None:
    acme_billrun, globex_billrun = start_double(), start_double()
    connected(connector, acme_billrun, "acme")
    connected(connector, globex_billrun, "globex")
    connector.subscribe("accounts.create", tenant="acme")
    connector.subscribe("subscribers.delete", tenant="globex")
    globex_calls = len(globex_billrun.log())
    synced(connector, "acme")
    assert acme_billrun.pairs() == {("accounts", "create")}
    assert globex_billrun.webhooks() == [] and len(globex_billrun.log()) == globex_calls
    synced(connector, "globex")
    assert globex_billrun.pairs() == {("subscribers", "delete")}
    assert acme_billrun.pairs() == {("accounts", "create")}
    assert connector.cli("billrun", "disconnect", "--tenant", "acme").exit_code == 0
    assert globex_billrun.pairs() == {("subscribers", "delete")}
