"""End to end with real processes: ``serve`` (its in-process worker reconciles), the CLI, a BillRun double."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from process_control import stop

from .conftest import CLIENT_ID, CLIENT_SECRET, Double, wait_until

pytestmark = pytest.mark.slow  # end to end: processes, servers, kill -9; `-m 'not slow'` skips them

CLI = [sys.executable, "-c", "from connector.cli import main; main()"]


def test_connect_once_then_subscriptions_reach_billrun(db_url: str, tmp_path: Path, double: Double) -> None:
    env = {
        **os.environ,
        "BILLRUN_CONNECTOR_DATABASE_URL": db_url,
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "127.0.0.0/8",
        "BILLRUN_CONNECTOR_SECRET_KEY": "e2e-secret",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)

    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen([*CLI, "serve", "--port", "0"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        match = wait_until(lambda: re.search(r"listening on (http://\S+)", log.read_text()), timeout=60)
        base = match.group(1)
        connected = run(
            "billrun",
            "connect",
            "--tenant",
            "acme",
            "--url",
            double.url,
            "--client-id",
            CLIENT_ID,
            "--ingest-base-url",
            base,
            "--client-secret",
            CLIENT_SECRET,
        )
        assert connected.returncode == 0, connected.stdout + connected.stderr
        assert CLIENT_SECRET not in connected.stdout + connected.stderr
        key = run("keys", "create", "--tenant", "acme").stdout.strip().splitlines()[-1]
        started = time.monotonic()
        hook = requests.post(
            base + "/api/v1/hooks",
            json={"target_url": "http://127.0.0.1:9/hook", "event": "subscribers.update"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()
        (webhook,) = wait_until(double.webhooks, timeout=10)
        assert time.monotonic() - started < 10
        assert webhook["webhook_url"].startswith(base + "/ingest/billrun/")

        # What BillRun would post to the registered URL is taken in.
        fired = run("fire", "subscribers.update", "--url", webhook["webhook_url"])
        assert fired.returncode == 0 and "HTTP 200" in fired.stdout, fired.stdout + fired.stderr

        requests.delete(base + f"/api/v1/hooks/{hook['id']}", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        wait_until(lambda: double.webhooks() == [], timeout=10)
        status = run("billrun", "status", "--tenant", "acme")
        assert status.returncode == 0 and "0 registered" in status.stdout, status.stdout + status.stderr
        disconnected = run("billrun", "disconnect", "--tenant", "acme")
        assert disconnected.returncode == 0, disconnected.stdout + disconnected.stderr
    finally:
        stop(serve, signal.SIGINT)
    assert serve.returncode == 0, log.read_text()
