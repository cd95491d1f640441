"""Property-based requests generated from the live OpenAPI document (schemathesis): no input reaches a
5xx, and answers match what the document says. Seeded and bounded, so a run is repeatable and short."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from connector.app import create_app
from connector.storage import tenants

from .conftest import make_settings

pytestmark = pytest.mark.slow  # end to end: processes, servers, kill -9; `-m 'not slow'` skips them

EXAMPLES_PER_OPERATION = 30


def _fuzzed_app() -> tuple[Flask, str]:
    """An app on its own SQLite file with one admin key (built at import: schemathesis reads its
    OpenAPI document to make the test cases)."""
    folder = Path(tempfile.mkdtemp(prefix="billrun-connector-fuzz-"))
    app = create_app(make_settings(f"sqlite:///{folder / 'fuzz.db'}"))
    with app.extensions["billrun_connector.runtime"].database.session() as session:
        owner = tenants.get_or_create_tenant(session, "acme")
        _, key = tenants.create_api_key(session, owner, label="fuzz", admin=True)
    return app, key


APP, KEY = _fuzzed_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_reaches_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {KEY}"},
        checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
    )
