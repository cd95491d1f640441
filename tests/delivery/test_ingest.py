"""Ingest from BillRun: every catalog sample in the real wire format, tokens, limits, schemas."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from connector.billrun_wire import FORM_CONTENT_TYPE, encode_form
from connector.catalog import get_catalog
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


@pytest.mark.parametrize(
    "body",
    [b"module=subscribers&action=trackchanges", b"action=create&x=1", b"module=a+b&action=create", b"x=1"],
)
def test_a_body_that_names_no_billrun_event_is_400_and_logged(
    service: Service, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    with caplog.at_level(logging.WARNING, logger="connector.api.ingest"):
        response = service.client().post(service.ingest_url(), data=body, headers=FORM)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "not_a_delivery"
    assert any("ingest refused" in record.getMessage() for record in caplog.records)
    assert events(service) == []


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
