"""Fixtures of the console tests: the app, tenants with keys, and a signed-in browser-like client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from connector.app import create_app
from connector.config import Settings
from connector.storage import Database, tenants

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "allowed_networks": ("127.0.0.0/8",),
        "secret_key": "console-test-secret",
        "in_process_worker": False,
    }
    values.update(overrides)
    return Settings.load(environ={}, **values)


# Not named ``app``: pytest-flask would push one request context for the whole test, and every
# request would share its ``g``, unlike in a real server.
@pytest.fixture
def console_app(db_url: str) -> Iterator[Flask]:
    application = create_app(make_settings(db_url))
    yield application
    database(application).dispose()


def database(app: Flask) -> Database:
    return app.extensions["billrun_connector.runtime"].database


@dataclass(frozen=True)
class Key:
    key: str
    key_id: str
    tenant: str
    tenant_id: int


@pytest.fixture
def make_key(console_app: Flask) -> Callable[..., Key]:
    def make(tenant: str = "acme", label: str = "console", admin: bool = False) -> Key:
        with database(console_app).session() as session:
            owner = tenants.get_or_create_tenant(session, tenant)
            row, plaintext = tenants.create_api_key(session, owner, label=label, admin=admin)
            return Key(plaintext, row.id, owner.name, owner.id)

    return make


class Console:
    """A client that signs in and posts forms with the page's CSRF token, as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, **kwargs)
        found = TOKEN.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> TestResponse:
        if csrf and not self.token:
            self.get("/sign-in")
        body = {**({"csrf_token": self.token} if csrf else {}), **(data or {})}
        response = self.client.post(path, data=body)
        found = TOKEN.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, key: Key) -> TestResponse:
        self.get("/sign-in")
        response = self.post("/sign-in", {"api_key": key.key})
        assert response.status_code == 303, response.get_data(as_text=True)
        self.get("/")  # a fresh token: signing in starts a new session
        return response

    def text(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:500])
        return response.get_data(as_text=True)


@pytest.fixture
def console(console_app: Flask) -> Console:
    return Console(console_app.test_client())


@pytest.fixture
def acme(make_key: Callable[..., Key]) -> Key:
    return make_key("acme")


@pytest.fixture
def globex(make_key: Callable[..., Key]) -> Key:
    return make_key("globex")


@pytest.fixture
def signed_in(console: Console, acme: Key) -> Console:
    console.sign_in(acme)
    return console
