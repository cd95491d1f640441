"""Ingest from BillRun: every catalog sample in the real wire format, tokens, limits, schemas."""

from __future__ import annotations

import json
import logging
import random
from typing import Any

import pytest
import standardwebhooks
from sqlalchemy import select

from connector.billrun_wire import FORM_CONTENT_TYPE, encode_form
from connector.catalog import get_catalog
from connector.delivery.worker import Worker
from connector.storage import ingest_tokens
from connector.storage.models import Delivery, Event

from .conftest import Service, fan_out_all
from .receiver import Receiver

FORM = {"Content-Type": FORM_CONTENT_TYPE}


def _pruned(value: Any) -> Any:
    """What survives PHP's http_build_query: no nulls, no empty arrays or maps."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _samples() -> list[tuple[str, dict[str, Any]]]:
    catalog = get_catalog()
    return [
        (entry.type, sample)
        for entry in catalog.types()
        if catalog.deliverable(entry.type)
        for sample in catalog.samples(entry.type)
    ]


def events(service: Service) -> list[Event]:
    with service.db.session() as session:
        return list(session.scalars(select(Event).order_by(Event.created_at)))


def deliveries(service: Service) -> list[Delivery]:
    with service.db.session() as session:
        return list(session.scalars(select(Delivery)))


def test_every_sample_in_billrun_wire_format(service: Service) -> None:
    samples = _samples()
    assert len(samples) >= 40
    hooks = {t: service.subscribe("http://127.0.0.1:9/hook", t)["id"] for t in dict.fromkeys(t for t, _ in samples)}
    path = service.ingest_url()
    client = service.client()
    for event_type, sample in samples:
        response = client.post(path, data=encode_form(event_type, sample["data"]), headers=FORM)
        assert response.status_code == 200, (event_type, response.get_json())
        answer = response.get_json()
        assert answer["status"] == 1 and answer["type"] == event_type and answer["fanout"] == "pending", answer
        assert fan_out_all(service.db) == 1
        with service.db.session() as session:
            event = session.get(Event, answer["id"])
            assert event is not None and event.type == event_type and event.source == "billrun"
            assert event.schema_valid, (event_type, event.validation_errors)
            assert _pruned(event.data) == _pruned(sample["data"]), event_type
            (delivery,) = session.scalars(select(Delivery).where(Delivery.event_id == event.id))
            assert delivery.subscription_id == hooks[event_type] and delivery.status == "pending"


def test_json_body_is_accepted(service: Service) -> None:
    service.subscribe("http://127.0.0.1:9/hook", "subscribers.trackchanges")
    body = {
        "module": "subscribers",
        "action": "update",
        "before": {"aid": "1", "sid": "12"},
        "after": {"aid": "1", "sid": "12"},
        "modifiedUser": "crm",
    }
    response = service.client().post(service.ingest_url(), json=body)
    assert response.status_code == 200 and response.get_json()["fanout"] == "pending"
    assert fan_out_all(service.db) == 1
    assert events(service)[0].data["after"] == {"aid": 1, "sid": 12}


def test_bad_and_revoked_tokens_are_401(service: Service) -> None:
    body = encode_form("accounts.create", get_catalog().samples("accounts.create")[0]["data"])
    path = service.ingest_url()
    assert service.client().post(path[:-3] + "xyz", data=body, headers=FORM).status_code == 401
    assert service.client().post("/ingest/billrun/nonsense", data=body, headers=FORM).status_code == 401
    with service.db.session() as session:
        (token,) = ingest_tokens.list_ingest_tokens(session)
        ingest_tokens.revoke_ingest_token(session, token.id)
    response = service.client().post(path, data=body, headers=FORM)
    assert response.status_code == 401 and "revoked" in response.get_json()["error"]["message"]
    assert events(service) == []


def test_an_event_the_catalog_does_not_know_is_kept_marked_and_delivered_to_wildcards(
    service: Service, receiver: Receiver
) -> None:
    everything = service.subscribe(receiver.url, "*")
    accounts = service.subscribe(receiver.url, "accounts.*")
    service.subscribe(receiver.url, "accounts.create")  # a concrete type: not this event
    body = b"module=accounts&action=archive&after%5Baid%5D=7&after%5Bfrom%5D%5Bsec%5D=1706659200"
    response = service.client().post(service.ingest_url(), data=body, headers=FORM)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["type"] == "accounts.archive" and answer["schema_valid"] is False
    assert fan_out_all(service.db) == 2
    (stored,) = events(service)
    assert stored.type == "accounts.archive" and stored.data["after"]["from"] == "2024-01-31T00:00:00Z"
    assert any("not in the catalog" in issue for issue in stored.validation_errors)
    with service.db.session() as session:
        targets = set(session.scalars(select(Delivery.subscription_id).where(Delivery.event_id == stored.id)))
    assert targets == {everything["id"], accounts["id"]}
    metrics = service.client().get("/metrics").get_data(as_text=True)
    assert 'billrun_connector_uncatalogued_events_total{type="accounts.archive"}' in metrics
    # The delivery log says so too, beside a catalogued event's deliveries.
    known = encode_form("accounts.update", get_catalog().samples("accounts.update")[0]["data"])
    assert service.client().post(service.ingest_url(), data=known, headers=FORM).status_code == 200
    fan_out_all(service.db)
    log = service.client().get(f"/api/v1/hooks/{accounts['id']}/deliveries", headers=service.auth()).get_json()["data"]
    assert [(d["event_type"], d["event_in_catalog"]) for d in log] == [
        ("accounts.update", True),
        ("accounts.archive", False),
    ]
    detail = service.client().get(f"/api/v1/deliveries/{log[1]['id']}", headers=service.auth()).get_json()
    assert detail["event_in_catalog"] is False and detail["event_schema_valid"] is False
    assert (
        detail["event_issues"][0] == "$.type: accounts.archive is not in the catalog; typed by the schema of its module"
    )


@pytest.mark.parametrize(
    "body",
    [b"action=create&x=1", b"module=a+b&action=create", b"module=accounts&action=", b"x=1", b"=1&[a]=2"],
)
def test_a_body_that_names_no_billrun_event_is_400_and_logged(
    service: Service, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    with caplog.at_level(logging.WARNING, logger="connector.api.ingest"):
        response = service.client().post(service.ingest_url(), data=body, headers=FORM)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "not_a_delivery"
    assert any("ingest refused" in record.getMessage() for record in caplog.records)
    assert events(service) == []


HUGE = "9" * 5000
# Well-formed deliveries with what BillRun can send and JSON cannot carry as such: each is kept (200),
# its oddity stays visible (the issues) and it is stored as strict JSON, on SQLite and PostgreSQL.
ODD_DELIVERIES: list[tuple[str, bytes, str, Any, str]] = [
    (
        "a map key holding brackets",
        b"module=balances&action=update&modifiedUser=crm&after[aid]=1"
        b"&after[balance][groups][DATA+%5B5GB%5D][usagev]=1073741824",
        "balances.update",
        {"after": {"aid": 1, "balance": {"groups": {"DATA [5GB": "1073741824"}}}, "modifiedUser": "crm"},
        "$.after.balance.groups['DATA [5GB']: '1073741824' is not of type 'object'",
    ),
    (
        "numbers JSON cannot carry",
        b"module=bills&action=afterPaymentAdjusted&old=1e999&new=NaN&aid=" + HUGE.encode(),
        "bills.afterPaymentAdjusted",
        {"old": "1e999", "new": "NaN", "aid": HUGE},
        "$.old: '1e999' is not of type 'number'",
    ),
    (
        "integers beyond 64 bits and INF",
        b"module=bills&action=afterPaymentAdjusted&old=-INF&new=INF&aid=9223372036854775808",
        "bills.afterPaymentAdjusted",
        {"old": "-INF", "new": "INF", "aid": "9223372036854775808"},
        "$.aid: '9223372036854775808' is not of type 'integer'",
    ),
    (
        "a list index of 5,000 digits",
        f"module=collection&action=in_collection&step[extra_params][state]=in_collection"
        f"&step[extra_params][aids][{HUGE}]=7".encode(),
        "collection.in_collection",
        {"step": {"extra_params": {"state": "in_collection", "aids": {HUGE: "7"}}}},
        "$.step.extra_params.aids",
    ),
    (
        "invalid UTF-8",
        b"module=accounts&action=create&modifiedUser=crm&after[aid]=5&after[firstname]=Dan%ff",
        "accounts.create",
        {"after": {"aid": 5, "firstname": "Dan\ufffd"}, "modifiedUser": "crm"},
        "invalid UTF-8 replaced by U+FFFD",
    ),
    (
        "a step name of 255 characters",
        b"module=collection&action=" + "שלב".encode() * 85 + b"&step[step_code]=x",
        "collection." + "שלב" * 85,
        {"step": {"step_code": "x"}},
        "",
    ),
    (
        "a step named like a group: a custom step",
        b"module=collection&action=trackchanges&step[step_code]=trackchanges",
        "collection.trackchanges",
        {"step": {"step_code": "trackchanges"}},
        "",
    ),
    (
        "an action named like a group",
        b"module=subscribers&action=trackchanges&modifiedUser=crm",
        "subscribers.trackchanges",
        {"modifiedUser": "crm"},
        "$.type: subscribers.trackchanges is not in the catalog",
    ),
    (
        "a field nested deeper than PHP allows",
        b"module=accounts&action=update&modifiedUser=crm&after[aid]=5&before" + b"[x]" * 65 + b"=1",
        "accounts.update",
        {"after": {"aid": 5}, "modifiedUser": "crm"},
        "variable 'before' dropped",
    ),
]


@pytest.mark.parametrize("name,body,event_type,data,issue", ODD_DELIVERIES, ids=[o[0] for o in ODD_DELIVERIES])
def test_odd_but_well_formed_deliveries_are_kept(
    service: Service, name: str, body: bytes, event_type: str, data: Any, issue: str
) -> None:
    service.subscribe("http://127.0.0.1:9/hook", "*")
    response = service.client().post(service.ingest_url(), data=body, headers=FORM)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["type"] == event_type
    assert fan_out_all(service.db) == 1
    (stored,) = events(service)
    assert stored.type == event_type and stored.data == data
    assert stored.schema_valid is (not issue)
    assert not issue or any(issue in error for error in stored.validation_errors or []), stored.validation_errors
    json.dumps(stored.envelope(), allow_nan=False, ensure_ascii=False).encode("utf-8")  # strict JSON, signable


_FIELDS = [
    "after[aid]", "after[sid]", "after[from][sec]", "after[from][usec]", "after[services][0][from][sec]",
    "after[services][x][quantity]", "after[services][]", "before[balance][groups][DATA [5GB]][usagev]",
    "after[in_collection]", "after[overrides][9223372036854775808]", "bill[pays][0][amount]", "old", "new",
    "step[extra_params][aids][]", "a.b c", "after[a[b]", "[x]", "", "after" + "[x]" * 70, "modifiedUser",
]  # fmt: skip
_VALUES = [
    "1", "-1", "0", "1.5", "1e999", "-1e999", "NaN", "INF", "-INF", "9" * 5000, "-9223372036854775809",
    "%ff", "%ed%a0%80", "%00", "", "true", "1.0E+20", "2024-01-31T00:00:00+02:00", "%5B%5D", "+", "%",
]  # fmt: skip


@pytest.mark.parametrize("action", ["create", "afterPaymentAdjusted", "in_collection", "Reminder (day 3)", "nope"])
def test_no_body_with_a_module_and_an_action_is_refused_or_breaks(service: Service, action: str) -> None:
    """Seeded random bodies of BillRun's field names and of values JSON cannot carry: always 200,
    stored as strict JSON, on SQLite and PostgreSQL alike."""
    rng = random.Random(f"ingest-{action}")
    client, path = service.client(), service.ingest_url()
    module = {"afterPaymentAdjusted": "bills", "in_collection": "collection", "Reminder (day 3)": "collection"}
    for _ in range(60):
        fields = [f"{rng.choice(_FIELDS)}={rng.choice(_VALUES)}" for _ in range(rng.randint(0, 12))]
        body = "&".join([f"module={module.get(action, 'accounts')}", f"action={action}", *fields]).encode()
        response = client.post(path, data=body, headers=FORM)
        assert response.status_code == 200, (body, response.get_json())
    stored = events(service)
    assert len(stored) == 60
    for event in stored:
        json.dumps(event.envelope(), allow_nan=False, ensure_ascii=False).encode("utf-8")


def test_json_bodies_with_lone_surrogates_and_non_finite_numbers_are_kept_and_delivered(
    service: Service, receiver: Receiver
) -> None:
    hook = service.subscribe(receiver.url, "accounts.*")
    body = b'{"module":"accounts","action":"create","modifiedUser":"crm\\ud800","after":{"aid":1e999,"firstname":"\\udc00"}}'
    response = service.client().post(service.ingest_url(), data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.get_json()
    worker = Worker(service.db, service.settings, poll_seconds=0.05)
    worker.start()
    try:
        (got,) = receiver.wait_for(1)
    finally:
        worker.stop(10)
    envelope = standardwebhooks.Webhook(hook["secret"]).verify(got.body, got.headers)
    assert envelope["data"] == {"modifiedUser": "crm\ufffd", "after": {"aid": "1e999", "firstname": "\ufffd"}}
    json.loads(got.body, parse_constant=lambda name: pytest.fail(f"{name} in a delivered body"))
    (stored,) = events(service)
    assert "body: 2 lone surrogates (\\ud800 to \\udfff) replaced by U+FFFD" in (stored.validation_errors or [])


def test_a_step_name_of_255_characters_is_subscribed_to_and_delivered(service: Service) -> None:
    step = ("תזכורת (יום 3) " * 17)[:254] + "!"
    assert len(step) == 255
    hook = service.subscribe("http://127.0.0.1:9/hook", f"collection.{step}")
    body = f"module=collection&action={step}&step[step_code]={step}".encode()
    response = service.client().post(service.ingest_url(), data=body, headers=FORM)
    assert response.status_code == 200 and fan_out_all(service.db) == 1
    assert [d.subscription_id for d in deliveries(service)] == [hook["id"]]
    assert events(service)[0].type == f"collection.{step}"


def test_an_uncatalogued_event_is_counted_only_once_stored(service: Service) -> None:
    body = b"module=accounts&action=archive_never_stored&after%5Baid%5D=7"
    path = service.ingest_url()
    with service.db.session() as session:
        (token,) = ingest_tokens.list_ingest_tokens(session)
        ingest_tokens.revoke_ingest_token(session, token.id)
    assert service.client().post(path, data=body, headers=FORM).status_code == 401
    metrics = service.client().get("/metrics").get_data(as_text=True)
    assert "archive_never_stored" not in metrics


def test_malformed_body_is_400(service: Service) -> None:
    response = service.client().post(
        service.ingest_url(), data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_body_over_the_limit_is_413(make_service: Any) -> None:
    service = make_service(max_body_bytes=2048)
    body = b"module=accounts&action=create&after[firstname]=" + b"x" * 3000
    response = service.client().post(service.ingest_url(), data=body, headers=FORM)
    assert response.status_code == 413 and response.is_json
    assert events(service) == []


BAD_ACCOUNT = b"module=accounts&action=create&after[aid]=not-a-number&after[firstname]=Ann"


def test_schema_mismatch_is_accepted_and_flagged(service: Service) -> None:
    service.subscribe("http://127.0.0.1:9/hook", "accounts.create")
    response = service.client().post(service.ingest_url(), data=BAD_ACCOUNT, headers=FORM)
    assert response.status_code == 200
    assert response.get_json()["schema_valid"] is False and response.get_json()["fanout"] == "pending"
    assert fan_out_all(service.db) == 1
    (event,) = events(service)
    assert not event.schema_valid and any("aid" in error for error in event.validation_errors or [])


def test_event_reaches_only_the_urls_tenant(service: Service) -> None:
    other_tenant, other_key = service.add_tenant("globex")
    mine = service.subscribe("http://127.0.0.1:9/mine", "accounts.create")
    service.subscribe("http://127.0.0.1:9/theirs", "accounts.create", key=other_key)
    body = encode_form("accounts.create", get_catalog().samples("accounts.create")[0]["data"])
    assert service.client().post(service.ingest_url(source="crm-prod"), data=body, headers=FORM).status_code == 200
    fan_out_all(service.db)
    assert [d.subscription_id for d in deliveries(service)] == [mine["id"]]
    assert events(service)[0].source == "crm-prod"
    assert service.client().post(service.ingest_url(other_tenant), data=body, headers=FORM).status_code == 200
    assert fan_out_all(service.db) == 1


def test_nothing_is_delivered_inside_the_request(service: Service, receiver: Any) -> None:
    service.subscribe(receiver.url, "accounts.create")
    body = encode_form("accounts.create", get_catalog().samples("accounts.create")[0]["data"])
    assert service.client().post(service.ingest_url(), data=body, headers=FORM).status_code == 200
    assert receiver.requests == []
    assert deliveries(service) == []  # the fan-out is the worker's, after the answer
    fan_out_all(service.db)
    assert [d.status for d in deliveries(service)] == ["pending"]
