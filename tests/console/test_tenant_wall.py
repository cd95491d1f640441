"""Tenant walls in the console, exactly as in the API: a tenant's key neither sees nor changes
another tenant's subscriptions, deliveries, events, keys or ingest URLs, through any console URL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask

from connector.storage import ingest_tokens, tenants
from connector.storage.models import Delivery, IngestToken, Subscription, Tenant

from .conftest import Console, Key, database


@dataclass(frozen=True)
class Theirs:
    subscription: str
    delivery: str
    event: str
    key: str
    ingest: str


@pytest.fixture
def theirs(console_app: Flask, globex: Key) -> Theirs:
    """Globex's things, made through the REST API with globex's key."""
    client = console_app.test_client()
    auth = {"Authorization": f"Bearer {globex.key}"}
    hook = client.post(
        "/api/v1/hooks", json={"target_url": "http://127.0.0.1:9/hook", "events": ["*"]}, headers=auth
    ).get_json()
    sent = client.post(f"/api/v1/hooks/{hook['id']}/test", json={}, headers=auth).get_json()
    with database(console_app).session() as session:
        delivery = session.query(Delivery).filter_by(event_id=sent["id"]).one()
        token = ingest_tokens.create_ingest_token(session, session.get(Tenant, globex.tenant_id), "billrun")  # type: ignore[arg-type]
        return Theirs(hook["id"], delivery.id, sent["id"], globex.key_id, token.id)


def _their_urls(t: Theirs) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", f"/subscriptions/{t.subscription}", {}),
        ("GET", f"/deliveries/{t.delivery}", {}),
        ("GET", f"/events/{t.event}", {}),
        ("POST", f"/subscriptions/{t.subscription}/pause", {}),
        ("POST", f"/subscriptions/{t.subscription}/resume", {}),
        ("POST", f"/subscriptions/{t.subscription}/rotate-secret", {}),
        ("POST", f"/subscriptions/{t.subscription}/test", {}),
        ("POST", f"/subscriptions/{t.subscription}/delete", {}),
        ("POST", f"/deliveries/{t.delivery}/retry", {}),
        ("POST", "/deliveries/recover", {"subscription": t.subscription, "since": "2000-01-01T00:00"}),
        ("POST", f"/events/{t.event}/release", {}),
        ("POST", f"/keys/{t.key}/revoke", {}),
        ("POST", f"/ingest-urls/{t.ingest}/revoke", {}),
    ]


def test_a_tenant_key_cannot_see_or_change_another_tenants_things(
    console_app: Flask, signed_in: Console, theirs: Theirs, globex: Key
) -> None:
    with database(console_app).session() as session:
        before = session.get(Subscription, theirs.subscription)
        assert before is not None
        secret = before.secret
    for method, path, data in _their_urls(theirs):
        response = signed_in.get(path) if method == "GET" else signed_in.post(path, data)
        assert response.status_code == 404, (method, path, response.status_code)
        page = response.get_data(as_text=True)
        assert "Not found" in page and secret not in page
    with database(console_app).session() as session:
        after = session.get(Subscription, theirs.subscription)
        assert after is not None and after.status == "active" and after.secret == secret
        key = tenants.find_active_key(session, globex.key)
        assert key is not None and key.revoked_at is None
        token = session.get(IngestToken, theirs.ingest)
        assert token is not None and token.revoked_at is None
        delivery = session.get(Delivery, theirs.delivery)
        assert delivery is not None and delivery.attempt_count == 0


def test_listings_show_the_tenants_own_things_only(signed_in: Console, theirs: Theirs, globex: Key) -> None:
    pages = {
        "/subscriptions": theirs.subscription,
        "/deliveries": theirs.delivery,
        "/events": theirs.event,
        "/keys": theirs.key,
        "/ingest-urls": theirs.ingest,
        "/": theirs.subscription,
        f"/deliveries?subscription={theirs.subscription}": theirs.delivery,
        "/subscriptions?q=127.0.0.1": theirs.subscription,
        "/events?verdict=valid": theirs.event,
    }
    for path, their_id in pages.items():
        page = signed_in.text(path)
        assert their_id not in page and "globex" not in page, path


def test_a_tenant_key_cannot_switch_tenant_or_make_admin_keys(signed_in: Console, globex: Key) -> None:
    assert signed_in.post("/tenant", {"tenant_id": str(globex.tenant_id)}).status_code == 403
    assert "globex" not in signed_in.text("/subscriptions")
    refused = signed_in.post("/keys", {"label": "root", "admin": "true"})
    assert refused.status_code == 403 and "only an admin key" in refused.get_data(as_text=True)


def test_an_admin_key_works_in_one_tenant_at_a_time(
    console_app: Flask, make_key: Callable[..., Key], theirs: Theirs, globex: Key
) -> None:
    console = Console(console_app.test_client())
    console.sign_in(make_key("operator", "ops", admin=True))
    assert theirs.subscription not in console.text("/subscriptions")  # its own tenant first
    switched = console.post("/tenant", {"tenant_id": str(globex.tenant_id)})
    assert switched.status_code == 303
    listing = console.text("/subscriptions")
    assert theirs.subscription in listing and "tenant globex" in listing
    assert theirs.delivery in console.text("/deliveries")
    made = console.post("/keys", {"label": "n8n"})
    assert made.status_code == 201
    with database(console_app).session() as session:
        labels = {key.label for key in tenants.list_keys(session, "globex")}
    assert "n8n" in labels  # made in the tenant it works in
    assert console.post("/tenant", {"tenant_id": "999999"}).status_code == 404
