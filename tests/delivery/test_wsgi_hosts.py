"""The app under other WSGI servers through ``connector.wsgi:app``: gunicorn with several processes
(with the in-process worker, and on PostgreSQL with a separate ``billrun-connector worker``), and
waitress-serve. Every process says at start which database, worker mode and networks it uses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .conftest import wait_until
from .receiver import Receiver

pytestmark = pytest.mark.slow  # end to end: processes, servers, kill -9; `-m 'not slow'` skips them

CLI = [sys.executable, "-c", "from connector.cli import main; main()"]
BIN = Path(sys.executable).parent
TYPE = "accounts.create"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(db_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "BILLRUN_CONNECTOR_DATABASE_URL": db_url,
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "127.0.0.0/8",
        "BILLRUN_CONNECTOR_RETRY_SCALE": "0.001",
        "BILLRUN_CONNECTOR_SECRET_KEY": "wsgi-secret",
        **extra,
    }


class Processes:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Path:
        log = self.tmp_path / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.running.append((process, log))
        return log

    def stop(self) -> None:
        for process, _ in self.running:
            process.send_signal(signal.SIGTERM)
        for process, _ in self.running:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.stop()


def _key(env: dict[str, str]) -> str:
    made = subprocess.run(
        [*CLI, "keys", "create", "--tenant", "acme"], env=env, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def _wait_up(base: str, log: Path) -> None:
    def up() -> bool:
        try:
            return requests.get(base + "/healthz", timeout=2).status_code == 200
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still loading the app
            return False

    try:
        wait_until(up, timeout=60, interval=0.2)
    except AssertionError:
        raise AssertionError(log.read_text()) from None


def _deliver_through(base: str, key: str, receiver: Receiver, count: int) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    hook = requests.post(
        base + "/api/v1/hooks", json={"target_url": receiver.url, "events": [TYPE]}, headers=auth, timeout=10
    )
    assert hook.status_code == 201, hook.text
    for n in range(count):  # several requests, so that both web processes take some
        answer = requests.post(base + "/api/v1/events", json={"type": TYPE, "data": {"n": n}}, headers=auth, timeout=10)
        assert answer.status_code == 202, answer.text
    receiver.wait_for(count, timeout=30)


def _gunicorn(port: int, *options: str) -> list[str]:
    return [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", *options, "connector.wsgi:app"]


def test_gunicorn_with_two_processes_delivers_with_its_in_process_workers(
    db_url: str, processes: Processes, receiver: Receiver
) -> None:
    env = _env(db_url)
    port = _free_port()
    log = processes.start("gunicorn", _gunicorn(port), env)
    base = f"http://127.0.0.1:{port}"
    _wait_up(base, log)
    _deliver_through(base, _key(env), receiver, 6)
    starts = [line for line in log.read_text().splitlines() if "in-process delivery worker" in line]
    assert len(starts) >= 2 and all("allowed target networks: 127.0.0.0/8" in line for line in starts)


def test_gunicorn_preloaded_says_its_forked_processes_run_no_worker(db_url: str, processes: Processes) -> None:
    env = _env(db_url)
    port = _free_port()
    log = processes.start("gunicorn", _gunicorn(port, "--preload"), env)
    wait_until(lambda: log.read_text().count("it runs none") == 2, timeout=60)


def test_gunicorn_web_processes_with_separate_workers_on_postgresql(
    db_url: str, processes: Processes, receiver: Receiver
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("separate worker processes are the PostgreSQL set-up")
    env = _env(db_url, BILLRUN_CONNECTOR_IN_PROCESS_WORKER="false")
    port = _free_port()
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    log = processes.start("gunicorn", _gunicorn(port), env)
    for n in range(2):
        processes.start(f"worker-{n}", [*CLI, "worker"], env)
    base = f"http://127.0.0.1:{port}"
    _wait_up(base, log)
    _deliver_through(base, _key(env), receiver, 10)
    assert "no in-process worker" in log.read_text()
    for n in range(2):
        started = (processes.tmp_path / f"worker-{n}.log").read_text()
        assert "started with" in started and "database postgresql+psycopg://" in started and "127.0.0.0/8" in started
    time.sleep(0.5)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 10 == len(receiver.requests)


def test_waitress_serve_hosts_the_entry_point(db_url: str, processes: Processes, receiver: Receiver) -> None:
    env = _env(db_url)
    port = _free_port()
    log = processes.start(
        "waitress", [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{port}", "connector.wsgi:app"], env
    )
    base = f"http://127.0.0.1:{port}"
    _wait_up(base, log)
    _deliver_through(base, _key(env), receiver, 2)
