"""End to end through the command line: serve (with its in-process worker), ingest-url, fire, revoke."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import standardwebhooks

from connector.billrun_wire import encode_form
from connector.catalog import get_catalog

from .conftest import CLI, run
from .receiver import Receiver

pytestmark = pytest.mark.slow  # end to end: processes, servers, kill -9; `-m 'not slow'` skips them


def post_like_billrun(url: str, body: bytes) -> tuple[str, bytes]:
    """POST as BillRun's Zend/curl client does: form body, Expect: 100-continue, Connection: close."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: Zend_Http_Client\r\n"
            f"Accept-encoding: deflate\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode())
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    header, _, reply = answer.partition(b"\r\n\r\n")
    return header.decode().splitlines()[0], reply


def test_fire_through_the_ingest_url(served: tuple[str, dict[str, str]], receiver: Receiver) -> None:
    base, env = served
    made = run(env, "ingest-url", "--tenant", "acme", "--source", "crm", "--base-url", base)
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip().splitlines()[-1]
    assert url.startswith(base + "/ingest/billrun/")
    key = run(env, "keys", "create", "--tenant", "acme").stdout.strip().splitlines()[-1]
    hook = requests.post(
        base + "/api/v1/hooks",
        json={"target_url": receiver.url, "event": "subscribers.trackchanges"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()

    fired = run(env, "fire", "subscribers.update", "--url", url)
    assert fired.returncode == 0, fired.stdout + fired.stderr
    answer = json.loads(fired.stdout.split("\n", 1)[1])
    assert answer["status"] == 1 and answer["fanout"] == "pending"

    (got,) = receiver.wait_for(1, timeout=20)
    assert got.headers["webhook-id"] == answer["id"]
    envelope = standardwebhooks.Webhook(hook["secret"]).verify(got.body, got.headers)
    assert envelope["type"] == "subscribers.update" and envelope["data"]["after"]

    # BillRun's curl sends bodies over 1 KB with "Expect: 100-continue" and waits for the interim answer.
    status, reply = post_like_billrun(
        url, encode_form("accounts.create", get_catalog().samples("accounts.create")[0]["data"])
    )
    assert status.startswith("HTTP/1.1 200") and json.loads(reply)["status"] == 1

    revoked = run(env, "ingest-urls", "revoke", url)
    assert revoked.returncode == 0, revoked.stderr
    listed = run(env, "ingest-urls", "list", "--tenant", "acme").stdout
    assert "revoked" in listed
    again = run(env, "fire", "subscribers.update", "--url", url)
    assert again.returncode == 1 and "HTTP 401" in again.stdout
    assert run(env, "fire", "subscribers.trackchanges", "--url", url).returncode == 2


def test_worker_serves_its_own_metrics(db_url: str, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "BILLRUN_CONNECTOR_DATABASE_URL": db_url}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*CLI, "worker", "--metrics-port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline and process.poll() is None:
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                break
            except (requests.ConnectionError, requests.Timeout):  # not serving yet
                time.sleep(0.1)
        assert "billrun_connector_delivery_attempt_duration_seconds" in text, log.read_text()
        # A separate worker yields the CPU to the web processes (nice 10 by default, never less than it had).
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == max(10, os.getpriority(os.PRIO_PROCESS, 0))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    assert process.returncode == 0, log.read_text()
