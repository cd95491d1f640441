"""The catalog lists what BillRun really fires, in the format the service and the JS packages read."""

from __future__ import annotations

import json
import re
from pathlib import Path

CATALOG = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "catalog.json").read_text(encoding="utf-8"))
ENTRIES = {entry["type"]: entry for entry in CATALOG["events"]}

REVISIONED = {"create", "update", "closeandnew", "close", "move", "delete", "permanentchange", "reopen"}
BILLAPI_ACTIONS = {
    "accounts": REVISIONED - {"move"},
    **{
        name: REVISIONED
        for name in (
            "subscribers",
            "plans",
            "services",
            "rates",
            "taxes",
            "prepaidincludes",
            "prepaidgroups",
            "discounts",
        )
    },
    "users": {"create", "update", "delete", "changepassword"},
    "autorenew": {"create", "update", "delete"},
    "balances": {"update", "delete", "permanentchange", "reopen"},
    "lines": {"delete"},
    "queue": {"delete"},
}
FIELDS = [
    "type",
    "key",
    "module",
    "action",
    "group",
    "kind",
    "title",
    "noun",
    "description",
    "fired_by_billrun",
    "important",
    "schema",
]


def test_format_of_the_file() -> None:
    assert CATALOG["version"] == 1
    assert [g["id"] for g in CATALOG["groups"]] == [
        "entities",
        "bills",
        "balances",
        "events",
        "collection",
        "system",
        "any",
    ]
    groups = {g["id"] for g in CATALOG["groups"]}
    for entry in CATALOG["events"]:
        assert list(entry)[: len(FIELDS)] == FIELDS
        assert entry["type"] == ("*" if entry["kind"] == "all" else f"{entry['module']}.{entry['action']}")
        assert entry["group"] in groups
        assert entry["kind"] in {"event", "group", "module", "all"}
        assert isinstance(entry["important"], bool) and isinstance(entry["fired_by_billrun"], bool)
        assert len(entry["noun"]) >= 2 and len(entry["title"]) >= 2 and entry["description"].endswith(".")


def test_every_billapi_change_action_and_nothing_else() -> None:
    for module, actions in BILLAPI_ACTIONS.items():
        listed = {
            e["action"]
            for e in CATALOG["events"]
            if e["module"] == module and e["kind"] == "event" and e["group"] == "entities"
        }
        assert listed == actions, module
        group = ENTRIES[f"{module}.trackchanges"]
        assert group["kind"] == "group"
        assert set(group["expands_to"]) == {f"{module}.{a}" for a in actions}


def test_hooks_bills_balances_events_collection() -> None:
    bills = {
        "afterChargeSuccess",
        "afterPaymentAdjusted",
        "afterRefundSuccess",
        "afterInvoiceConfirmed",
        "afterRejection",
        "afterDenial",
        "update",
    }
    assert {e["action"] for e in CATALOG["events"] if e["module"] == "bills" and e["kind"] == "event"} == bills
    assert {"bills.trackchanges", "bills.*", "*"} <= set(ENTRIES)
    assert ENTRIES["balances.afterBalanceUpdate"]["fired_by_billrun"] is True
    assert ENTRIES["balances.afterBalanceCreation"]["fired_by_billrun"] is False
    hooks = {"events.create", "events.notify", "collection.in_collection", "collection.out_of_collection"}
    assert hooks <= set(ENTRIES)
    steps = ENTRIES["collection.*"]
    assert steps["kind"] == "module" and steps["key"] == "collection_any"
    for name in ("send_reminder_sms", "Reminder (day 3)", "תזכורת SMS", "x" * 255):
        assert re.fullmatch(steps["action_pattern"], name)
    for name in ("", "x" * 256, "line\nbreak"):
        assert not re.fullmatch(steps["action_pattern"], name)
    never = {"balances.afterBalanceCreation", "users.changepassword", "discounts.reopen"}
    assert {e["type"] for e in CATALOG["events"] if not e["fired_by_billrun"]} == never


def test_size_titles_keys_and_important_ones() -> None:
    assert len(CATALOG["events"]) > 90
    keys = [e["key"] for e in CATALOG["events"]]
    titles = [e["title"] for e in CATALOG["events"]]
    assert len(set(keys)) == len(keys) and len(set(titles)) == len(titles)
    assert all(re.fullmatch(r"[a-z]+[a-z0-9_]*", key) for key in keys)  # Zapier trigger keys
    assert ENTRIES["bills.afterChargeSuccess"]["key"] == "bills_after_charge_success"
    assert ENTRIES["subscribers.update"]["title"] == "Subscriber Updated"
    assert ENTRIES["bills.afterChargeSuccess"]["title"] == "Charge Succeeded"
    assert ENTRIES["collection.in_collection"]["title"] == "Customer Entered Collection"
    important = [e["type"] for e in CATALOG["events"] if e["important"]]
    assert 8 <= len(important) <= 12
    assert ENTRIES["balances.afterBalanceCreation"]["important"] is False


def test_everyday_triggers_name_fired_types_in_plain_words() -> None:
    everyday = CATALOG["everyday"]
    assert 0 < len(everyday) <= 24  # the Zapier app adds one general trigger; its editor should show at most 25
    assert len({t["key"] for t in everyday}) == len(everyday)
    assert len({t["label"].lower() for t in everyday}) == len(everyday)
    for trigger in everyday:
        assert re.fullmatch(r"[a-z]+[a-z0-9_]*", trigger["key"])
        assert trigger["description"].startswith("Triggers when ")
        assert trigger["description"].endswith(".")
        assert trigger["events"] and all(ENTRIES[name]["fired_by_billrun"] for name in trigger["events"])
    labels = {t["label"] for t in everyday}
    assert {"New Subscriber", "Updated Subscriber", "New Account", "Updated Account", "New Payment"} <= labels
