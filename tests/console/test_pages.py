"""What the console's pages do: subscriptions (create with wildcards, pause, resume, test, delete),
the delivery log (filters, one delivery, retry with its 409, recover), events, samples, keys and
ingest URLs; and every hostile value answered with a clear 400 page, never a server error."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from connector.app import create_app
from connector.storage import tenants
from connector.storage.models import Delivery, Subscription

from .conftest import Console, Key, database, make_settings

TARGET = "http://127.0.0.1:9/hook"


def _create(console: Console, *events: str, other: str = "") -> str:
    response = console.post("/subscriptions", {"target_url": TARGET, "events": list(events), "other_events": other})
    assert response.status_code == 201, response.get_data(as_text=True)
    return re.search(r"sub_\w+", response.get_data(as_text=True)).group(0)  # type: ignore[union-attr]


def _delivery_of(console_app: Flask, subscription: str) -> str:
    with database(console_app).session() as session:
        return session.query(Delivery).filter_by(subscription_id=subscription).one().id


def test_the_picker_offers_every_catalog_entry_with_the_wildcards(signed_in: Console) -> None:
    page = signed_in.text("/subscriptions/new")
    for name in ("*", "subscribers.*", "subscribers.trackchanges", "subscribers.update", "collection.*"):
        assert f'value="{name}"' in page, name


def test_a_subscription_to_wildcards_and_a_custom_step(console_app: Flask, signed_in: Console) -> None:
    subscription = _create(signed_in, "*", "accounts.*", other="collection.send reminder, subscribers.update")
    with database(console_app).session() as session:
        row = session.get(Subscription, subscription)
        assert row is not None
        assert row.events == ["*", "accounts.*", "collection.send reminder", "subscribers.update"]
        assert row.created_via == "console"
    listed = signed_in.text("/subscriptions?event=accounts.*")
    assert subscription in listed
    assert subscription not in signed_in.text("/subscriptions?event=plans.create")
    assert subscription in signed_in.text("/subscriptions?status=active&q=127.0.0.1")
    assert subscription not in signed_in.text("/subscriptions?status=disabled")


def test_a_refused_subscription_keeps_the_form_and_says_why(signed_in: Console) -> None:
    response = signed_in.post("/subscriptions", {"target_url": "http://10.1.2.3/hook", "events": "subscribers.updat"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "--allow-network 10.1.2.3/32" in page
    assert "did you mean &#39;subscribers.update&#39;" in page
    assert 'value="http://10.1.2.3/hook"' in page  # the form keeps what was typed
    none = signed_in.post("/subscriptions", {"target_url": TARGET})
    assert none.status_code == 400 and "at least one event type is required" in none.get_data(as_text=True)


def test_pause_resume_test_send_and_delete(console_app: Flask, signed_in: Console) -> None:
    subscription = _create(signed_in, "subscribers.update")
    assert signed_in.post(f"/subscriptions/{subscription}/pause").status_code == 303
    page = signed_in.text(f"/subscriptions/{subscription}")
    assert "paused by an operator" in page and "Resume the subscription to send a test" in page
    refused = signed_in.post(f"/subscriptions/{subscription}/test")
    assert refused.status_code == 409 and "re-enable it first" in refused.get_data(as_text=True)
    assert signed_in.post(f"/subscriptions/{subscription}/resume").status_code == 303
    sent = signed_in.post(f"/subscriptions/{subscription}/test", {"type": "subscribers.update"})
    assert sent.status_code == 303
    assert "queued for this subscription" in signed_in.text(f"/subscriptions/{subscription}")
    delivery = _delivery_of(console_app, subscription)
    assert delivery in signed_in.text(f"/deliveries?subscription={subscription}&status=pending")
    assert delivery in signed_in.text("/deliveries?type=subscribers.update")
    assert delivery not in signed_in.text("/deliveries?type=accounts.create")
    assert delivery not in signed_in.text("/deliveries?status=failed")
    assert signed_in.post(f"/subscriptions/{subscription}/delete").status_code == 303
    removed = signed_in.get(f"/subscriptions/{subscription}")
    assert removed.status_code == 410 and "already removed (unsubscribed)" in removed.get_data(as_text=True)


def test_one_delivery_and_a_retry_refused_while_an_attempt_is_in_flight(console_app: Flask, signed_in: Console) -> None:
    subscription = _create(signed_in, "subscribers.update")
    signed_in.post(f"/subscriptions/{subscription}/test")
    delivery = _delivery_of(console_app, subscription)
    page = signed_in.text(f"/deliveries/{delivery}")
    assert "No attempt yet" in page and "&#34;type&#34;: &#34;subscribers.update&#34;" in page
    leased = datetime.now(UTC) + timedelta(minutes=5)
    with database(console_app).session() as session:
        session.execute(
            update(Delivery).where(Delivery.id == delivery).values(lease_owner="worker-1", lease_expires_at=leased)
        )
    response = signed_in.post(f"/deliveries/{delivery}/retry")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Not retried." in page and "is being attempted right now" in page
    with database(console_app).session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery).values(lease_owner=None, lease_expires_at=None))
    assert signed_in.post(f"/deliveries/{delivery}/retry").status_code == 303
    assert "Retry queued" in signed_in.text(f"/deliveries/{delivery}")


def test_recover_requeues_failed_deliveries_since_a_time(console_app: Flask, signed_in: Console) -> None:
    subscription = _create(signed_in, "subscribers.update")
    signed_in.post(f"/subscriptions/{subscription}/test")
    delivery = _delivery_of(console_app, subscription)
    with database(console_app).session() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery).values(status="failed"))
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in.post("/deliveries/recover", {"subscription": subscription, "since": later})
    assert response.status_code == 303
    assert "0 failed deliveries" in signed_in.text("/deliveries")
    earlier = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    signed_in.post("/deliveries/recover", {"subscription": subscription, "since": earlier})
    assert "1 failed deliveries" in signed_in.text(f"/deliveries?subscription={subscription}")
    with database(console_app).session() as session:
        assert session.get(Delivery, delivery).status == "pending"  # type: ignore[union-attr]


def test_events_show_the_payload_and_its_schema_verdict(console_app: Flask, signed_in: Console, acme) -> None:  # type: ignore[no-untyped-def]
    client = console_app.test_client()
    auth = {"Authorization": f"Bearer {acme.key}"}
    bad = client.post("/api/v1/events", json={"type": "accounts.create", "data": {"after": "nope"}}, headers=auth)
    assert bad.status_code == 202
    listing = signed_in.text("/events?verdict=invalid")
    event = bad.get_json()["id"]
    assert event in listing and event not in signed_in.text("/events?verdict=valid")
    page = signed_in.text(f"/events/{event}")
    assert "does not match the schema" in page and "$.after" in page
    assert event in signed_in.text("/events?type=accounts.create")


def test_samples_per_type(signed_in: Console) -> None:
    page = signed_in.text("/samples?type=subscribers.trackchanges")
    assert "Any Subscriber Change" in page and "&#34;data&#34;" in page
    assert signed_in.get("/samples?type=nope.nothing").status_code == 404


def test_an_ingest_url_with_its_registration_commands(signed_in: Console) -> None:
    _create(signed_in, "subscribers.trackchanges")
    made = signed_in.post("/ingest-urls", {"base_url": "https://connector.test/", "source": "eu"})
    assert made.status_code == 201
    page = made.get_data(as_text=True)
    assert "INGEST_URL=https://connector.test/ingest/billrun/" in page
    assert "subscribers/update" in page and "subscribers/closeandnew" in page
    token = re.search(r"ing_\w+", signed_in.text("/ingest-urls")).group(0)  # type: ignore[union-attr]
    assert signed_in.post(f"/ingest-urls/{token}/revoke").status_code == 303
    assert "revoked" in signed_in.text("/ingest-urls")


def test_revoking_the_sessions_own_key_signs_out(signed_in: Console, acme) -> None:  # type: ignore[no-untyped-def]
    response = signed_in.post(f"/keys/{acme.key_id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert signed_in.client.get("/").status_code == 303


HOSTILE = [
    ("GET", "/subscriptions?status=deleted", {}, "status"),
    ("GET", "/subscriptions?cursor=not-a-cursor", {}, "cursor"),
    ("GET", "/subscriptions?event=" + "x" * 400, {}, "event"),
    ("GET", "/deliveries?status=lost", {}, "status"),
    ("GET", "/deliveries?subscription=../../etc", {}, "subscription"),
    ("GET", "/deliveries?cursor=eyJ4IjogMX0", {}, "cursor"),
    ("GET", "/events?verdict=maybe", {}, "verdict"),
    ("GET", "/events?type=%00", {}, "type"),
    ("POST", "/deliveries/recover", {"subscription": "sub_x", "since": "yesterday"}, "since"),
    ("POST", "/deliveries/recover", {"subscription": "sub_x", "since": "0001-01-01T00:00:00+08:04"}, "since"),
    ("POST", "/deliveries/recover", {"since": "2020-01-01T00:00"}, "subscription"),
    ("POST", "/tenant", {"tenant_id": "abc"}, "tenant_id"),
    ("POST", "/tenant", {"tenant_id": "9" * 40}, "tenant_id"),
    ("POST", "/keys", {"label": "a\x00b"}, "label"),
    ("POST", "/keys", {"label": "x" * 300}, "label"),
    ("POST", "/keys", {"label": "ok", "admin": "perhaps"}, "admin"),
    ("POST", "/ingest-urls", {"base_url": "javascript:alert(1)"}, "base_url"),
    ("POST", "/ingest-urls", {"base_url": "https://connector.test", "source": "s" * 300}, "source"),
    ("POST", "/subscriptions", {"target_url": "http://127.0.0.1:9/\x00", "events": "*"}, "target_url"),
    ("POST", "/subscriptions", {"target_url": TARGET, "events": "*", "description": "d" * 3000}, "description"),
    ("POST", "/subscriptions", {"target_url": TARGET, "events": ["*"] * 60}, "events"),
]


@pytest.mark.parametrize(("method", "path", "data", "field"), HOSTILE, ids=[f"{m} {p[:40]}" for m, p, _, _ in HOSTILE])
def test_hostile_values_get_a_clear_400_page(
    signed_in: Console, method: str, path: str, data: dict, field: str
) -> None:  # type: ignore[type-arg]
    response = signed_in.get(path) if method == "GET" else signed_in.post(path, data)
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True)[:3000])
    page = response.get_data(as_text=True)
    assert "text/html" in response.content_type
    assert f"<strong>{field}</strong>" in page


def test_a_test_send_of_a_type_the_subscription_does_not_receive(signed_in: Console) -> None:
    subscription = _create(signed_in, "subscribers.update")
    unknown = signed_in.post(f"/subscriptions/{subscription}/test", {"type": "nope.nothing"})
    assert unknown.status_code == 400 and "<strong>type</strong>" in unknown.get_data(as_text=True)
    other = signed_in.post(f"/subscriptions/{subscription}/test", {"type": "accounts.create"})
    assert other.status_code == 400 and "does not receive" in other.get_data(as_text=True)


def test_unknown_ids_are_404_pages(signed_in: Console) -> None:
    for path in ("/subscriptions/sub_nope", "/deliveries/dlv_nope", "/events/evt_nope"):
        response = signed_in.get(path)
        assert response.status_code == 404 and "Not found" in response.get_data(as_text=True)
    assert signed_in.post("/keys/key_nope/revoke").status_code == 404
    assert signed_in.post("/ingest-urls/ing_nope/revoke").status_code == 404


def test_quarantined_events_are_listed_and_released(db_url: str) -> None:
    app = create_app(make_settings(db_url, strict_schemas=True))
    try:
        console = Console(app.test_client())
        with database(app).session() as session:
            owner = tenants.get_or_create_tenant(session, "acme")
            row, plaintext = tenants.create_api_key(session, owner, label="console")
            key = Key(plaintext, row.id, owner.name, owner.id)
        console.sign_in(key)
        held = app.test_client().post(
            "/api/v1/events",
            json={"type": "accounts.create", "data": {"after": "nope"}},
            headers={"Authorization": f"Bearer {key.key}"},
        )
        event = held.get_json()["id"]
        assert event in console.text("/events?state=quarantined")
        assert event not in console.text("/events?state=pending")
        assert "In quarantine." in console.text(f"/events/{event}")
        assert console.post(f"/events/{event}/release").status_code == 303
        page = console.text(f"/events/{event}")
        assert "Released from quarantine" in page and "In quarantine." not in page
        assert event not in console.text("/events?state=quarantined")
        again = console.post(f"/events/{event}/release")
        assert again.status_code == 409 and "is not in quarantine" in again.get_data(as_text=True)
    finally:
        database(app).dispose()
