"""connector.catalog: lookups, trackchanges expansion, custom steps, validation with every error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from connector import catalog as catalog_module
from connector.catalog import Catalog, CatalogError, UnknownEventType, ValidationIssue, find_schemas_dir, get_catalog

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog(SCHEMAS)


def test_loaded_once() -> None:
    assert get_catalog() is get_catalog()
    assert len(get_catalog().types()) > 90


def test_types_and_get(cat: Catalog) -> None:
    update = cat.get("subscribers.update")
    assert update is not None
    assert (update.key, update.module, update.action, update.group, update.kind) == (
        "subscribers_update",
        "subscribers",
        "update",
        "entities",
        "event",
    )
    assert update.schema_path == "events/subscribers.update.json" and update.important
    group = cat.get("subscribers.trackchanges")
    assert group is not None and group.kind == "group" and "subscribers.closeandnew" in group.expands_to
    step = cat.get("collection.send_reminder_sms")
    assert step is not None and step.type == "collection.*" and step.kind == "module" and step.action_pattern
    assert cat.get("collection.Reminder (day 3)") is step and cat.get("collection.תזכורת SMS") is step
    assert cat.get("*").kind == "all" and cat.get("charges.*").kind == "module"  # type: ignore[union-attr]
    never = cat.get("users.changepassword")
    assert never is not None and not never.fired_by_billrun and "changePassword" in (never.never_fired_because or "")
    assert "application/controllers/Action/Auth.php" in cat.get("login.login").billrun_source  # type: ignore[union-attr]
    assert cat.get("collection.in_collection").kind == "event"  # type: ignore[union-attr]
    assert cat.get("subscribers.rename") is None
    assert cat.get("collection.") is None
    assert cat.get("lines.update") is None


def test_subscribable_and_deliverable(cat: Catalog) -> None:
    for name in (
        "subscribers.update",
        "subscribers.trackchanges",
        "collection.*",
        "collection.send_reminder_sms",
        "balances.afterBalanceCreation",
        "*",
        "subscribers.*",
        "jobs_messages.*",
        "charges.move",
        "collection.Reminder (day 3)",
        "collection.bad/step",
        "collection." + "x" * 255,
    ):
        assert cat.subscribable(name), name
    for name in (
        "subscribers.trackchange",
        "lines.create",
        "widgets.*",
        "collection.",
        "collection." + "x" * 256,
        "collection.tab\there",
        "nothing",
        "",
        "**",
    ):
        assert not cat.subscribable(name), name
    assert cat.deliverable("collection.send_reminder_sms") and cat.deliverable("bills.afterDenial")
    assert not cat.deliverable("collection.*") and not cat.deliverable("accounts.trackchanges")
    assert cat.knows("collection.תזכורת SMS") and cat.knows("login.login") and not cat.knows("subscribers.rename")


def test_check_subscribable_suggests_the_closest_name(cat: Catalog) -> None:
    assert cat.check_subscribable("subscribers.*") == "subscribers.*"
    with pytest.raises(UnknownEventType) as caught:
        cat.check_subscribable("subscriber.update")
    assert caught.value.suggestion == "subscribers.update" and "did you mean 'subscribers.update'" in str(caught.value)
    with pytest.raises(UnknownEventType) as caught:
        cat.check_subscribable("Subscribers.Update")
    assert caught.value.suggestion == "subscribers.update"
    with pytest.raises(UnknownEventType) as caught:
        cat.check_subscribable("subscribers.rename")
    assert "subscribers.* receives every action" in str(caught.value)
    with pytest.raises(UnknownEventType) as caught:
        cat.check_subscribable("zzzz")
    assert caught.value.suggestion is None and "<module>.*" in str(caught.value)


def test_billrun_pairs(cat: Catalog) -> None:
    assert cat.billrun_pairs("subscribers.update") == [("subscribers", "update")]
    assert cat.billrun_pairs("users.changepassword") == []
    assert ("users", "changepassword") not in cat.billrun_pairs("users.trackchanges")
    assert ("discounts", "reopen") not in cat.billrun_pairs("discounts.*")
    assert cat.billrun_pairs("collection.*") == [("collection", "in_collection"), ("collection", "out_of_collection")]
    assert cat.billrun_pairs("collection.Reminder (day 3)") == [("collection", "Reminder (day 3)")]
    everything = cat.billrun_pairs("*")
    assert ("login", "login") in everything and ("balances", "afterBalanceCreation") not in everything
    assert len(everything) == len(set(everything))
    assert cat.billrun_pairs("widgets.*") == []


def test_type_for(cat: Catalog) -> None:
    assert cat.type_for("subscribers", "update") == "subscribers.update"
    assert cat.type_for("SUBSCRIBERS", "Update") == "subscribers.update"
    assert cat.type_for("bills", "afterchargesuccess") == "bills.afterChargeSuccess"
    assert cat.type_for("accounts", "trackchanges") is None  # a group, never a delivered type
    assert cat.type_for("collection", "Send Reminder") == "collection.Send Reminder"
    assert cat.type_for("jobs_messages", "Cancelled") == "jobs_messages.cancelled"
    assert cat.type_for("accounts", "move") is None  # accounts have no move action
    assert cat.type_for("webhooks", "create") is None
    assert cat.type_for("collection", "") is None


def test_subscription_keys(cat: Catalog) -> None:
    assert cat.subscription_keys("subscribers.update") == (
        "subscribers.update",
        "subscribers.trackchanges",
        "subscribers.*",
        "*",
    )
    assert cat.subscription_keys("users.changepassword") == (
        "users.changepassword",
        "users.trackchanges",
        "users.*",
        "*",
    )
    assert cat.subscription_keys("collection.send_reminder_sms") == (
        "collection.send_reminder_sms",
        "collection.*",
        "*",
    )
    assert cat.subscription_keys("collection.in_collection") == ("collection.in_collection", "collection.*", "*")
    assert cat.subscription_keys("bills.afterChargeSuccess") == ("bills.afterChargeSuccess", "bills.*", "*")
    assert cat.subscription_keys("subscribers.rename") == ("subscribers.rename", "subscribers.*", "*")
    assert cat.subscription_keys("subscribers.trackchanges") == ("subscribers.*", "*")
    assert cat.subscription_keys("nothing.here") == ("nothing.here", "*")
    assert cat.subscription_keys("nothing") == ()


def test_schema_and_samples(cat: Catalog) -> None:
    schema = cat.schema("subscribers.update")
    assert schema["properties"]["type"] == {"const": "subscribers.update"}
    schema["title"] = "changed"
    assert cat.schema("subscribers.update")["title"] == "Subscriber Updated"  # callers get copies
    samples = cat.samples("collection.notify_by_mail")
    assert samples and all(s["type"] == "collection.notify_by_mail" for s in samples)
    assert samples[0]["data"]["step"]["step_code"] == "notify_by_mail"
    assert cat.validate_envelope(samples[0]) == []
    assert [s["type"] for s in cat.samples("subscribers.trackchanges")] == ["subscribers.create", "subscribers.update"]
    assert cat.samples("nope.nope") == cat.samples("*")  # an unknown type is described by the wildcards
    assert cat.schema("subscribers.rename") == cat.schema("subscribers.*")
    with pytest.raises(UnknownEventType):
        cat.schema("nope")


def test_validation_reports_every_error(cat: Catalog) -> None:
    data = cat.samples("subscribers.update")[0]["data"]
    data["after"]["aid"] = "one thousand"
    data["after"]["services"][0]["service_id"] = 1.5
    data["before"]["from"] = "31/01/2024"
    del data["modifiedUser"]
    issues = cat.validate_data("subscribers.update", data)
    assert [issue.path for issue in issues] == ["$", "$.after.aid", "$.after.services[0].service_id", "$.before.from"]
    assert "modifiedUser" in issues[0].message and "integer" in issues[1].message
    assert "ISO 8601" in issues[3].message
    assert str(issues[1]) == "$.after.aid: 'one thousand' is not of type 'integer'"
    assert cat.validate_data("subscribers.rename", {"anything": ["goes"]}) == []
    assert [issue.path for issue in cat.validate_data("subscribers.rename", [])] == ["$"]
    with pytest.raises(UnknownEventType):
        cat.validate_data("no-dot", {})


def test_custom_fields_pass_validation(cat: Catalog) -> None:
    data = cat.samples("accounts.create")[0]["data"]
    data["after"]["crm_id"] = "CRM-88123"
    data["after"]["vip"] = {"since": "2020"}
    assert cat.validate_data("accounts.create", data) == []


def test_envelope_validation(cat: Catalog) -> None:
    sample = cat.samples("bills.afterChargeSuccess")[0]
    assert cat.validate_envelope(sample) == []
    wrong = {**sample, "id": "evt-with-dash", "extra": 1, "data": {"bill": {"aid": "x"}}}
    paths = [issue.path for issue in cat.validate_envelope(wrong)]
    assert paths == ["$", "$.data.bill.aid", "$.id"]
    assert cat.validate_envelope({**sample, "type": "bills.afterNothing"}) == []  # bills.* describes it
    assert ValidationIssue("$.type", "unknown event type 'nothing'") in cat.validate_envelope(
        {**sample, "type": "nothing"}
    )
    group_issues = cat.validate_envelope({**sample, "type": "subscribers.trackchanges"})
    assert "$.type" in [issue.path for issue in group_issues]  # deliveries always carry a concrete type
    assert cat.validate_envelope([1])[0].path == "$"


def test_schemas_dir_override_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(catalog_module.SCHEMAS_DIR_ENV, str(tmp_path))
    assert find_schemas_dir() == tmp_path
    with pytest.raises(CatalogError, match="catalog.json"):
        Catalog()
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy)
    assert len(Catalog(copy).types()) == len(Catalog(SCHEMAS).types())
    (copy / "events" / "taxes.move.json").unlink()
    with pytest.raises(CatalogError, match="taxes.move.json"):
        Catalog(copy)
    (copy / "events" / "taxes.close.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(CatalogError, match="taxes.close.json"):
        Catalog(copy)


def test_catalog_reads_its_own_file(cat: Catalog) -> None:
    assert cat.document == json.loads((SCHEMAS / "catalog.json").read_text(encoding="utf-8"))
    assert [t.type for t in cat.types()] == [e["type"] for e in cat.document["events"]]


def test_real_billrun_payload_shapes_validate(cat: Catalog) -> None:
    """What BillRun's source really sends: a first prepaid top-up has no before, CreditGuard payments
    carry payment_method as an object (a custom gateway's file as text), overrides are a list,
    discounts and charges declare priority, cycles, limit and proration as strings (empty: unset)."""
    top_up = {"after": {"aid": 1, "sid": 2, "connection_type": "prepaid"}, "modifiedUser": "crm"}
    assert cat.validate_data("balances.update", top_up) == []
    assert [i.path for i in cat.validate_data("balances.delete", {"modifiedUser": "crm"})] == ["$"]
    for method in ({"expiration_date": "0427", "last_four_digits": "4242"}, "automatic"):
        payment = {"bill": {"aid": 1, "type": "rec", "payment_method": method}}
        assert cat.validate_data("bills.afterChargeSuccess", payment) == [], method
    assert cat.validate_data("bills.afterChargeSuccess", {"bill": {"aid": 1, "payment_method": 7}}) != []
    overrides = {"after": {"sid": 1, "overrides": [{"key": "CALL", "price": 0.3}]}, "modifiedUser": "crm"}
    assert cat.validate_data("subscribers.create", overrides) == []
    assert cat.validate_data("subscribers.create", {**overrides, "after": {"overrides": {"0": {}}}}) != []
    for module in ("discounts", "charges"):
        strings = {"priority": "", "cycles": "", "limit": "", "prorated_start": "", "prorated_end": ""}
        after = {"key": "WELCOME", **strings, "params": {"min_subscribers": "", "max_subscribers": ""}}
        assert cat.validate_data(f"{module}.create", {"after": after, "modifiedUser": "crm"}) == [], module
        typed = {**after, "priority": 2, "cycles": 12, "limit": 50.5, "prorated_start": True}
        assert cat.validate_data(f"{module}.create", {"after": typed, "modifiedUser": "crm"}) == [], module
