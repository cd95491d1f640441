"""Fixtures of the BillRun link tests: BillRun doubles as real processes, a connector app, the CLI.

``db_url`` (SQLite, and PostgreSQL when configured) comes from tests/conftest.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from connector.app import create_app
from connector.cli import main as cli_main
from connector.config import Settings
from connector.storage import Database, tenants

DOUBLE = Path(__file__).with_name("billrun_double.py")
CLIENT_ID = "connector"
CLIENT_SECRET = "s3cret-Of-the-client"
SECRET_KEY = "link-test-secret-key"


@dataclass
class Double:
    """A running BillRun double and its control endpoints."""

    url: str
    process: subprocess.Popen[str]

    def control(self, command: str, method: str = "POST", **params: str) -> Any:
        response = requests.request(method, f"{self.url}/_double/{command}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def webhooks(self) -> list[dict[str, Any]]:
        return self.control("webhooks", "GET")

    def pairs(self) -> set[tuple[str, str]]:
        return {(w["webhook_module"], w["webhook_action"]) for w in self.webhooks()}

    def log(self) -> list[dict[str, Any]]:
        return self.control("log", "GET")


@pytest.fixture
def start_double() -> Iterator[Callable[..., Double]]:
    started: list[Double] = []

    def start(*flags: str, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> Double:
        process = subprocess.Popen(
            [sys.executable, str(DOUBLE), "--client-id", client_id, "--client-secret", client_secret, *flags],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, line
        double = Double(match.group(1), process)
        started.append(double)
        return double

    yield start
    for double in started:
        double.process.terminate()
        double.process.wait(10)


@pytest.fixture
def double(start_double: Callable[..., Double]) -> Double:
    return start_double()


def make_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "allowed_networks": ("127.0.0.0/8", "::1/128"),
        "retry_scale": 0.001,
        "secret_key": SECRET_KEY,
        "in_process_worker": False,
        "base_url": "http://connector.test",
    }
    values.update(overrides)
    return Settings.load(environ={}, **values)


@dataclass
class Connector:
    """The connector app on a fresh database; keys per tenant, the CLI in-process."""

    app: Flask
    db: Database
    settings: Settings
    keys: dict[str, str] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def key(self, tenant: str = "acme", admin: bool = False) -> str:
        name = f"{tenant}:{'admin' if admin else 'user'}"
        if name not in self.keys:
            with self.db.session() as session:
                owner = tenants.get_or_create_tenant(session, tenant)
                _, self.keys[name] = tenants.create_api_key(session, owner, label="test", admin=admin)
        return self.keys[name]

    def auth(self, tenant: str = "acme", admin: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key(tenant, admin)}"}

    def subscribe(self, *events: str, tenant: str = "acme", url: str = "http://127.0.0.1:9/hook") -> str:
        response = self.client().post(
            "/api/v1/hooks", json={"target_url": url, "events": list(events)}, headers=self.auth(tenant)
        )
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    def unsubscribe(self, subscription_id: str, tenant: str = "acme") -> None:
        response = self.client().delete(f"/api/v1/hooks/{subscription_id}", headers=self.auth(tenant))
        assert response.status_code == 204, response.get_json()

    def cli(self, *args: str) -> Result:
        env = {
            "BILLRUN_CONNECTOR_DATABASE_URL": self.settings.database_url,
            "BILLRUN_CONNECTOR_SECRET_KEY": self.settings.secret_key,
            "BILLRUN_CONNECTOR_RETRY_SCALE": str(self.settings.retry_scale),
            "BILLRUN_CONNECTOR_BASE_URL": self.settings.base_url,
        }
        return CliRunner().invoke(cli_main, list(args), env=env, catch_exceptions=False)

    def connect(self, double: Double, tenant: str = "acme", *extra: str, secret: str = CLIENT_SECRET) -> Result:
        return self.cli(
            "billrun",
            "connect",
            "--tenant",
            tenant,
            "--url",
            double.url,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            secret,
            *extra,
        )

    def status(self, tenant: str = "acme") -> dict[str, Any]:
        result = self.cli("billrun", "status", "--tenant", tenant, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def sync(self, tenant: str = "acme") -> Result:
        return self.cli("billrun", "sync", "--tenant", tenant)


@pytest.fixture
def connector(db_url: str) -> Iterator[Connector]:
    settings = make_settings(db_url)
    app = create_app(settings)
    instance = Connector(app, app.extensions["billrun_connector.runtime"].database, settings)
    yield instance
    instance.db.dispose()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
