"""One access-log line per request, without credentials (``connector.access``, logfmt)."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask import Flask

from connector.ingest_urls import ingest_url
from connector.storage import ingest_tokens, tenants

from .conftest import TARGET, Key, app_database


@pytest.fixture
def access_lines(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.INFO, logger="connector.access")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "connector.access"]


def test_a_line_per_request_with_method_path_status_and_duration(client: Any, key: Key, access_lines: Any) -> None:
    client.get("/healthz").close()  # a WSGI server closes every response; the line is written then
    client.get("/api/v1/hooks/nope", headers=key.headers).close()
    client.post("/api/v1/hooks", data="not json", headers={**key.headers, "Content-Type": "application/json"}).close()
    lines = access_lines()
    assert len(lines) == 3, lines
    assert re.fullmatch(r"method=GET path=/healthz status=200 duration_ms=\d+\.\d client=127\.0\.0\.1", lines[0])
    assert " path=/api/v1/hooks/nope status=404 " in lines[1]
    assert lines[2].startswith("method=POST path=/api/v1/hooks status=400 ")


def test_credentials_in_the_url_are_hidden(app: Flask, client: Any, key: Key, access_lines: Any) -> None:
    with app_database(app).session() as session:
        token = ingest_tokens.create_ingest_token(session, tenants.get_or_create_tenant(session, "acme"), "crm")
        token_id = token.id
    path = ingest_url("", app.config["SECRET_KEY"], token_id)
    client.post(path, json={"module": "subscribers", "action": "update", "after": {}}).close()
    client.post(path[:-3] + "xyz", json={}).close()  # a token whose signature does not hold
    client.get(
        "/plugins/webhooks/create",
        query_string={
            "access_token": key.key,
            "webhook_module": "subscribers",
            "webhook_action": "update",
            "webhook_url": TARGET + "/s3cret",
        },
    ).close()
    valid, forged, plugin = access_lines()
    assert valid.startswith(f"method=POST path=/ingest/billrun/*** ingest_url={token_id} status=200 ")
    assert forged.startswith("method=POST path=/ingest/billrun/*** ingest_url=invalid status=401 ")
    assert plugin.startswith(
        'method=GET path="/plugins/webhooks/create?access_token=***&webhook_module=subscribers'
        '&webhook_action=update&webhook_url=***" status=200 '
    ), plugin
    text = "\n".join(access_lines())
    assert path.rsplit("/", 1)[1] not in text and key.key not in text and "s3cret" not in text
