"""The BillRun registration commands the console shows run as they are: bash and curl against a
loopback stand-in for BillRun's plugin API, one webhook per module and action."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from delivery.receiver import Receiver

from connector.services.ingest_urls import registration_commands

INGEST_URL = "https://connector.test/ingest/billrun/abc.def"


@pytest.fixture
def billrun() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _run(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("curl") is None:
        pytest.fail("curl is missing: apt-get install curl (scripts/test does)")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("BILLRUN_")}
    return subprocess.run(
        ["bash", "-c", script], env={**environment, **env}, capture_output=True, text=True, timeout=60
    )


def test_the_commands_register_each_pair_with_the_ingest_url(billrun: Receiver) -> None:
    pairs = [("subscribers", "update"), ("collection", "send reminder/sms"), ("accounts", "create")]
    base = billrun.url.removesuffix("/hook")
    done = _run(registration_commands(INGEST_URL, pairs, base), BILLRUN_TOKEN="token-1")
    assert done.returncode == 0, done.stderr
    received = billrun.wait_for(3)
    forms = [{k: v[0] for k, v in parse_qs(r.body.decode()).items()} for r in received]
    assert {(f["webhook_module"], f["webhook_action"]) for f in forms} == set(pairs)
    assert all(f["webhook_url"] == INGEST_URL for f in forms)
    assert all(r.path == "/plugins/webhooks/create" for r in received)
    assert all(r.headers["authorization"] == "Bearer token-1" for r in received)


def test_the_commands_stop_at_once_without_a_token_or_a_billrun(billrun: Receiver) -> None:
    script = registration_commands(INGEST_URL, [("subscribers", "update")])
    no_url = _run(script, BILLRUN_TOKEN="token-1")
    assert no_url.returncode != 0 and "set BILLRUN_URL to your BillRun" in no_url.stderr
    no_token = _run(script, BILLRUN_URL=billrun.url.removesuffix("/hook"))
    assert no_token.returncode != 0 and "set BILLRUN_TOKEN" in no_token.stderr
    assert billrun.requests == []
