"""Strict schemas quarantine instead of refusing: stored, answered 200, not delivered, listed and
released by the operator (API and command line)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from connector.cli import main
from connector.metrics import EVENTS_QUARANTINED
from connector.storage.models import Delivery, Event

from .conftest import Service, fan_out_all

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BAD = b"module=accounts&action=create&after[aid]=not-a-number&after[firstname]=Ann&modifiedUser=crm"
GOOD = b"module=accounts&action=create&after[aid]=7&after[firstname]=Ann&modifiedUser=crm"
BAD_PLAN = b"module=plans&action=create&after[price][0][price]=cheap&after[name]=GOLD&modifiedUser=crm"


def delivered_events(service: Service) -> list[str]:
    with service.db.session() as session:
        return list(session.scalars(select(Delivery.event_id)))


def event(service: Service, event_id: str) -> Event:
    with service.db.session() as session:
        found = session.get(Event, event_id)
        assert found is not None
        return found


def test_strict_ingest_keeps_a_bad_payload_in_quarantine(make_service: Any) -> None:
    service = make_service(strict_schemas=True)
    service.subscribe("http://127.0.0.1:9/hook", "*")
    client = service.client()
    counted = EVENTS_QUARANTINED.labels("accounts.create")._value.get()
    bad = client.post(service.ingest_url(), data=BAD, headers=FORM)
    good = client.post(service.ingest_url(), data=GOOD, headers=FORM)
    assert bad.status_code == good.status_code == 200  # BillRun never retries: nothing is refused
    assert bad.get_json()["fanout"] == "quarantined" and bad.get_json()["schema_valid"] is False
    assert good.get_json()["fanout"] == "pending"
    assert fan_out_all(service.db) == 1
    assert delivered_events(service) == [good.get_json()["id"]]
    held = event(service, bad.get_json()["id"])
    assert held.data["after"]["aid"] == "not-a-number"  # kept exactly as BillRun sent it
    assert any("aid" in error for error in held.validation_errors or [])
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'billrun_connector_quarantined_events_total{{type="accounts.create"}} {counted + 1}' in metrics
    samples = client.get("/api/v1/events/accounts.create/samples", headers=service.auth()).get_json()
    assert [sample["id"] for sample in samples] == [good.get_json()["id"]]


def test_without_strict_schemas_nothing_is_quarantined(service: Service) -> None:
    service.subscribe("http://127.0.0.1:9/hook", "accounts.create")
    answer = service.client().post(service.ingest_url(), data=BAD, headers=FORM).get_json()
    assert answer["fanout"] == "pending" and answer["schema_valid"] is False
    assert fan_out_all(service.db) == 1


def test_unknown_types_are_noted_not_quarantined(make_service: Any) -> None:
    service = make_service(strict_schemas=True)
    service.subscribe("http://127.0.0.1:9/hook", "*")
    body = b"module=accounts&action=archive&after[aid]=7&modifiedUser=crm"
    answer = service.client().post(service.ingest_url(), data=body, headers=FORM).get_json()
    assert answer["fanout"] == "pending" and answer["schema_valid"] is False
    assert fan_out_all(service.db) == 1


def test_operator_lists_and_releases_through_the_api(make_service: Any) -> None:
    service = make_service(strict_schemas=True)
    service.subscribe("http://127.0.0.1:9/hook", "*")
    client = service.client()
    held = [
        client.post(service.ingest_url(), data=body, headers=FORM).get_json()["id"] for body in (BAD, BAD, BAD_PLAN)
    ]
    _, other_key = service.add_tenant("globex")

    listed = client.get("/api/v1/quarantine", headers=service.auth()).get_json()
    assert [item["id"] for item in listed["data"]] == held and listed["next_cursor"] is None
    assert listed["data"][0]["fanout"] == "quarantined" and listed["data"][0]["validation_errors"]
    page = client.get("/api/v1/quarantine", query_string={"limit": 2}, headers=service.auth()).get_json()
    rest = client.get(
        "/api/v1/quarantine", query_string={"cursor": page["next_cursor"]}, headers=service.auth()
    ).get_json()
    assert [item["id"] for item in page["data"] + rest["data"]] == held
    only_plans = client.get("/api/v1/quarantine", query_string={"type": "plans.create"}, headers=service.auth())
    assert [item["id"] for item in only_plans.get_json()["data"]] == held[2:]
    assert client.get("/api/v1/quarantine", headers=service.auth(other_key)).get_json()["data"] == []
    assert client.post(f"/api/v1/quarantine/{held[0]}/release", headers=service.auth(other_key)).status_code == 404

    released = client.post(f"/api/v1/quarantine/{held[0]}/release", headers=service.auth())
    assert released.status_code == 202 and released.get_json()["fanout"] == "pending"
    again = client.post(f"/api/v1/quarantine/{held[0]}/release", headers=service.auth())
    assert again.status_code == 409 and "not in quarantine" in again.get_json()["error"]["message"]
    assert fan_out_all(service.db) == 1 and delivered_events(service) == [held[0]]
    assert event(service, held[0]).schema_valid is False  # checked again, still failing: the operator's call

    by_type = client.post("/api/v1/quarantine/release", json={"type": "plans.create"}, headers=service.auth())
    assert by_type.get_json() == {"released": 1, "more": False}
    everything = client.post("/api/v1/quarantine/release", json={}, headers=service.auth())
    assert everything.get_json() == {"released": 1, "more": False}
    assert fan_out_all(service.db) == 2
    assert sorted(delivered_events(service)) == sorted(held)
    assert client.get("/api/v1/quarantine", headers=service.auth()).get_json()["data"] == []
    assert client.post("/api/v1/quarantine/evt_nosuch/release", headers=service.auth()).status_code == 404


def test_operator_lists_and_releases_from_the_command_line(make_service: Any, db_url: str) -> None:
    service = make_service(strict_schemas=True)
    service.subscribe("http://127.0.0.1:9/hook", "accounts.create")
    client = service.client()
    first, second = (client.post(service.ingest_url(), data=BAD, headers=FORM).get_json()["id"] for _ in range(2))
    runner = CliRunner()

    listed = runner.invoke(main, ["quarantine", "list", "--database-url", db_url])
    assert listed.exit_code == 0, listed.output
    assert first in listed.output and second in listed.output and "aid" in listed.output
    one = runner.invoke(main, ["quarantine", "release", first, "--database-url", db_url])
    assert one.exit_code == 0 and "released 1 event" in one.output
    missing = runner.invoke(main, ["quarantine", "release", first, "--database-url", db_url])
    assert missing.exit_code == 1 and "not in quarantine" in missing.output
    both = runner.invoke(main, ["quarantine", "release", first, "--all", "--database-url", db_url])
    assert both.exit_code == 2
    rest = runner.invoke(main, ["quarantine", "release", "--all", "--tenant", "acme", "--database-url", db_url])
    assert rest.exit_code == 0 and "released 1 event" in rest.output
    nobody = runner.invoke(main, ["quarantine", "release", "--all", "--tenant", "nobody", "--database-url", db_url])
    assert nobody.exit_code == 1 and "no tenant 'nobody'" in nobody.output
    assert fan_out_all(service.db) == 2
    assert sorted(delivered_events(service)) == sorted([first, second])


def test_type_labels_of_the_counters_are_bounded() -> None:
    from prometheus_client import CollectorRegistry, Counter

    from connector.metrics import MAX_TYPE_LABELS, count_type

    counter = Counter("bounded_types_probe", "probe", ["type"], registry=CollectorRegistry())
    for n in range(MAX_TYPE_LABELS + 50):
        count_type(counter, f"accounts.made_up_{n}")
    count_type(counter, "accounts.made_up_0")  # a type already known keeps its own label
    labels = {
        sample.labels["type"]: sample.value for sample in counter.collect()[0].samples if sample.name.endswith("_total")
    }
    assert len(labels) == MAX_TYPE_LABELS + 1 and labels["other"] == 50 and labels["accounts.made_up_0"] == 2
