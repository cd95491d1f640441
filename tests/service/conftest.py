"""Fixtures of the service tests: the app (pytest-flask's ``app``), API keys, a live server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from connector.app import create_app
from connector.config import Settings
from connector.storage import Database, tenants

TARGET = "http://127.0.0.1:9/hook"  # loopback is allowed in the test settings; nothing is delivered


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "allowed_networks": ("127.0.0.0/8", "::1/128"),
        "secret_key": "test-secret-key",
        "in_process_worker": False,
    }
    values.update(overrides)
    return Settings.load(environ={}, **values)


def app_database(app: Flask) -> Database:
    return app.extensions["billrun_connector.runtime"].database


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings)
    yield application
    app_database(application).dispose()


@dataclass(frozen=True)
class Key:
    key: str
    key_id: str
    tenant: str
    tenant_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_key(app: Flask) -> Callable[..., Key]:
    def make(tenant: str = "acme", label: str = "test", admin: bool = False) -> Key:
        with app_database(app).session() as session:
            owner = tenants.get_or_create_tenant(session, tenant)
            row, plaintext = tenants.create_api_key(session, owner, label=label, admin=admin)
            return Key(plaintext, row.id, owner.name, owner.id)

    return make


@pytest.fixture
def key(make_key: Callable[..., Key]) -> Key:
    return make_key("acme", "zapier")


@pytest.fixture
def other_key(make_key: Callable[..., Key]) -> Key:
    return make_key("globex", "n8n")


@pytest.fixture
def admin_key(make_key: Callable[..., Key]) -> Key:
    return make_key("operator", "ops", admin=True)


@pytest.fixture
def subscribe(client: Any, key: Key) -> Callable[..., dict[str, Any]]:
    """POST /api/v1/hooks and return the created subscription."""

    def create(
        events: Any = "subscribers.update", url: str = TARGET, as_key: Key | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {"target_url": url, "events": events if isinstance(events, list) else [events], **extra}
        response = client.post("/api/v1/hooks", json=body, headers=(as_key or key).headers)
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def live_server_url(app: Flask) -> Iterator[str]:
    """The app on a free loopback port, served by werkzeug's threaded server in a thread of this
    process (it stops cleanly from another thread, which waitress cannot)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive()
