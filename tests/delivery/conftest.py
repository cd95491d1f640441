"""Fixtures of the delivery tests: loopback receivers, a migrated database, test settings.

The ``db_url`` fixture (SQLite, and PostgreSQL when configured) comes from tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.app import create_app
from connector.catalog import get_catalog
from connector.config import Settings
from connector.ingest_urls import ingest_url
from connector.storage import Database, fanout, ingest_tokens, tenants, upgrade
from connector.storage.models import Tenant

from .receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def make_settings(db_url: str, **overrides: Any) -> Settings:
    """Test settings: loopback allowed, a compressed schedule, no environment read."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "allowed_networks": ("127.0.0.0/8", "::1/128"),
        "retry_scale": 0.001,
        "secret_key": "test-secret-key",
        "worker_threads": 4,
        "lease_seconds": 40,
    }
    values.update(overrides)
    return Settings.load(environ={}, **values)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    upgrade(database)
    yield database
    database.dispose()


def fan_out_all(db: Database) -> int:
    """Do the worker's fan-out of every pending event now; returns the deliveries written."""
    written = 0
    for _ in range(1000):  # bounded: each pass moves the fan-out on
        with db.engine.begin() as connection:
            result = fanout.fan_out(connection, get_catalog().subscription_keys, 500)
        written += result.deliveries
        if not result.more:
            return written
    raise AssertionError("the fan-out did not finish")


def query_plan(db: Database, statement: Any) -> str:
    """The database's plan for *statement*, as one line. On PostgreSQL with sequential scans and sorts
    disabled: its planner keeps statistics and would rightly scan a small test table, so the question
    asked is whether an index can serve the statement with no sort, not which plan it picks now."""
    expanded = statement.compile(db.engine).construct_expanded_state()  # a list parameter as it is bound
    with db.engine.connect() as connection:
        if db.dialect == "sqlite":
            params = tuple(expanded.positional_parameters or ())
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {expanded.statement}", params)
        else:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {expanded.statement}", expanded.parameters)
        plan = " ".join(str(row[-1]).strip() for row in rows)
        connection.rollback()
    return plan


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll *predicate* until it returns something truthy; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@dataclass
class Service:
    """A Flask app on a migrated database, with one tenant and its API key."""

    app: Flask
    db: Database
    settings: Settings
    tenant_id: int
    key: str

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def add_tenant(self, name: str) -> tuple[int, str]:
        with self.db.session() as session:
            tenant = tenants.get_or_create_tenant(session, name)
            _, key = tenants.create_api_key(session, tenant, label="test")
            return tenant.id, key

    def ingest_url(self, tenant_id: int | None = None, source: str = "billrun") -> str:
        """The path of a fresh ingest URL of *tenant_id* (default: the service's tenant)."""
        with self.db.session() as session:
            tenant = session.get(Tenant, tenant_id or self.tenant_id)
            token = ingest_tokens.create_ingest_token(session, tenant, source)  # type: ignore[arg-type]
            return urlsplit(ingest_url("http://connector.test", self.settings.secret_key, token.id)).path

    def subscribe(self, url: str, *events: str, key: str | None = None) -> dict[str, Any]:
        response = self.client().post(
            "/api/v1/hooks", json={"target_url": url, "events": list(events)}, headers=self.auth(key)
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def make_service(db_url: str) -> Iterator[Callable[..., Service]]:
    databases: list[Database] = []

    def build(**overrides: Any) -> Service:
        settings = make_settings(db_url, in_process_worker=False, **overrides)
        app = create_app(settings)
        db = app.extensions["billrun_connector.runtime"].database
        databases.append(db)
        with db.session() as session:
            tenant = tenants.get_or_create_tenant(session, "acme")
            _, key = tenants.create_api_key(session, tenant, label="test")
            tenant_id = tenant.id
        return Service(app, db, settings, tenant_id, key)

    yield build
    for db in databases:
        db.dispose()


@pytest.fixture
def service(make_service: Callable[..., Service]) -> Service:
    return make_service()


CLI = [sys.executable, "-c", "from connector.cli import main; main()"]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One command of the command line, in *env*."""
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def served(db_url: str, serve_cli: Callable[[dict[str, str]], str]) -> Iterator[tuple[str, dict[str, str]]]:
    """`billrun-connector serve` (waitress and its in-process worker) on a free loopback port:
    its base URL and the environment it runs in."""
    env = {
        **os.environ,
        "BILLRUN_CONNECTOR_DATABASE_URL": db_url,
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "127.0.0.0/8",
        "BILLRUN_CONNECTOR_RETRY_SCALE": "0.001",
        "BILLRUN_CONNECTOR_SECRET_KEY": "e2e-secret",
    }
    yield serve_cli(env), env
