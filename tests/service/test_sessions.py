"""Reads do not wait for SQLite's write lock, and a request uses one session (one connection)."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event

from .conftest import Key, app_database


@pytest.fixture
def sqlite_only(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")


def test_a_read_answers_while_another_process_holds_the_write_lock(
    sqlite_only: None, client: Any, key: Key, subscribe: Any, app: Any
) -> None:
    subscribe()  # also records the key's use, so the read below has nothing to write
    path = app_database(app).engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a writer, as the worker or an ingest would be
    try:
        started = time.monotonic()
        listed = client.get("/api/v1/hooks", headers=key.headers)
        one = client.get(f"/api/v1/hooks/{listed.json['data'][0]['id']}", headers=key.headers)
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert listed.status_code == 200 and one.status_code == 200
    assert elapsed < 5, f"the reads waited {elapsed:.1f} s for the write lock"


def test_a_write_still_queues_behind_the_write_lock(sqlite_only: None, client: Any, key: Key, app: Any) -> None:
    client.get("/api/v1/me", headers=key.headers)
    path = app_database(app).engine.url.database
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, lambda: holder.execute("ROLLBACK")).start()
    started = time.monotonic()
    response = client.post(
        "/api/v1/hooks", json={"target_url": "http://127.0.0.1:9/x", "events": ["accounts.create"]}, headers=key.headers
    )
    waited = time.monotonic() - started
    holder.close()
    assert response.status_code == 201 and waited >= 0.4  # it waited for the lock instead of failing


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/hooks"), ("POST", "/api/v1/hooks")])
def test_a_request_checks_out_one_connection(client: Any, key: Key, app: Any, method: str, path: str) -> None:
    client.get("/api/v1/me", headers=key.headers)  # the key's use is recorded: no extra write below
    checkouts: list[object] = []
    engine = app_database(app).engine
    listener = lambda *_args: checkouts.append(object())  # noqa: E731
    event.listen(engine, "checkout", listener)
    try:
        body = {"target_url": "http://127.0.0.1:9/x", "events": ["accounts.create"]}
        response = client.open(path, method=method, json=body if method == "POST" else None, headers=key.headers)
    finally:
        event.remove(engine, "checkout", listener)
    assert response.status_code in (200, 201)
    assert len(checkouts) == 1
