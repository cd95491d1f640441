"""Starting and stopping the bench's processes: the connector (waitress or gunicorn), workers, the receiver.

Every child is registered when it starts and stopped when its scenario ends, or at the latest when
the bench exits, whatever happened.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3

from bench.config import WEB_THREADS, WORKER_THREADS, environment
from bench.cpu import Group
from bench.report import BenchError

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
_LIVE: list[Child] = []
_PROBLEMS: list[str] = []
_WORRYING = ("WARNING", "ERROR", "CRITICAL", "Traceback")


def logged_problems() -> list[str]:
    """What the children stopped since the last call logged at warning level or worse (one line each)."""
    problems = list(_PROBLEMS)
    _PROBLEMS.clear()
    return problems


class Child:
    """A child process of the bench; ``stop()`` ends it (SIGTERM, then SIGKILL after a grace).

    Its standard error goes to a temporary file; what it logged at warning level or worse is
    collected when it stops (see ``logged_problems``)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.name = name
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=ROOT, env={**os.environ, **(env or {})}
        )
        _LIVE.append(self)

    def log_tail(self, lines: int = 5) -> str:
        self._log.seek(0)
        return " | ".join(self._log.read().strip().splitlines()[-lines:])

    @property
    def pid(self) -> int:
        return self.process.pid

    def first_line(self) -> str:
        """The first line the child prints (its port, or ``ready``); fails if it dies first."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        if not ready:
            tail = self.log_tail()
            self.stop()
            raise BenchError(f"{self.name} said nothing within {START_TIMEOUT:.0f} s: {tail}")
        line = self.process.stdout.readline().strip()
        if not line:
            self.process.wait(10)
            tail = self.log_tail()
            self.stop()
            raise BenchError(f"{self.name} did not start (exit status {self.process.returncode}): {tail}")
        return line

    def stop(self, grace: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self in _LIVE:
            _LIVE.remove(self)
            self._log.seek(0)
            worrying = [line for line in self._log.read().splitlines() if any(w in line for w in _WORRYING)]
            if worrying:
                _PROBLEMS.append(
                    f"{self.name} logged {len(worrying)} warnings or errors, the first: {worrying[0][:300]}"
                )
            self._log.close()


@atexit.register
def _stop_all() -> None:
    for child in list(_LIVE):
        child.stop(5)


def _role(name: str, *args: str) -> Child:
    return Child(name, [sys.executable, "-m", "bench.roles", *args])


def stop(*children: Child | None) -> None:
    for child in children:
        if child is not None:
            child.stop()


@dataclass(frozen=True)
class Hosting:
    """How the connector's web side runs: waitress in one process, or gunicorn with *processes*."""

    server: str = "waitress"
    processes: int = 1
    threads: int = WEB_THREADS

    def describe(self) -> str:
        if self.server == "waitress":
            return f"waitress, {self.threads} threads"
        plural = "es" if self.processes > 1 else ""
        return f"gunicorn connector.wsgi:app, {self.processes} process{plural} x {self.threads} threads (gthread)"


class App:
    """The connector's web side, running; *base* is its URL."""

    def __init__(self, child: Child, port: int) -> None:
        self.child = child
        self.port = port
        self.base = f"http://127.0.0.1:{port}"

    def cpu_group(self) -> Group:
        return Group("web", [self.child.pid], with_descendants=True)

    def stop(self) -> None:
        self.child.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_app(database_url: str, hosting: Hosting, in_process_worker: bool = False) -> App:
    """Start the connector on *database_url*, with the no-op endpoint; returns once it answers."""
    if hosting.server == "waitress":
        args = ["app", "--database-url", database_url, "--threads", str(hosting.threads)]
        child = _role("app", *args, *(["--in-process-worker"] if in_process_worker else []))
        app = App(child, int(child.first_line()))
    else:
        if in_process_worker:
            raise BenchError("the bench runs gunicorn with separate workers only")
        port = _free_port()
        args = [sys.executable, "-m", "gunicorn", "bench.wsgi:app", "--bind", f"127.0.0.1:{port}"]
        args += ["--workers", str(hosting.processes), "--worker-class", "gthread", "--threads", str(hosting.threads)]
        args += ["--log-level", "warning"]
        app = App(Child("gunicorn", args, environment(database_url)), port)
    _wait_healthy(app)
    return app


def _wait_healthy(app: App) -> None:
    pool = urllib3.PoolManager(retries=False, timeout=2.0)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and app.child.process.poll() is None:
        try:
            if pool.request("GET", app.base + "/healthz").status == 200:
                return
        except urllib3.exceptions.HTTPError:
            pass
        time.sleep(0.1)
    status = app.child.process.poll()
    tail = app.child.log_tail()
    app.stop()
    if status is not None:
        raise BenchError(f"{app.child.name} exited with status {status}: {tail}")
    raise BenchError(f"{app.child.name} did not answer /healthz within {START_TIMEOUT:.0f} s: {tail}")


def start_workers(
    database_url: str, count: int, threads: int = WORKER_THREADS, purge_every: float | None = None
) -> list[Child]:
    """*count* worker processes; returns once each has built its worker and is about to run it."""
    extra = [] if purge_every is None else ["--purge-every", str(purge_every)]
    children = [
        _role("worker", "worker", "--database-url", database_url, "--threads", str(threads), *extra)
        for _ in range(count)
    ]
    for child in children:
        child.first_line()
    return children


def worker_group(children: list[Child]) -> Group:
    return Group("workers" if len(children) > 1 else "worker", [c.pid for c in children])


class Receiver:
    """The loopback webhook receiver, running in its own process."""

    def __init__(self) -> None:
        self.child = _role("receiver", "receiver")
        self.port = int(self.child.first_line())
        self.base = f"http://127.0.0.1:{self.port}"
        self._pool = urllib3.HTTPConnectionPool("127.0.0.1", self.port, maxsize=1, retries=False, timeout=10.0)

    def url(self, path: str) -> str:
        return self.base + path

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = json.loads(self._pool.request("GET", "/stats").data)
        if stats["unsigned"]:
            raise BenchError(f"the receiver got {stats['unsigned']} POSTs without a Standard Webhooks signature")
        return stats

    def reset(self) -> None:
        self._pool.request("GET", "/reset")

    def wait_for(self, count: int, timeout: float) -> dict[str, Any]:
        """Wait until *count* signed POSTs arrived since the last reset; their stats."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if stats["signed"] >= count:
                return stats
            if time.monotonic() > deadline:
                raise BenchError(f"the receiver got {stats['signed']} of {count} deliveries in {timeout:.0f} s")
            time.sleep(0.02)

    def cpu_group(self) -> Group:
        return Group("receiver", [self.child.pid])

    def stop(self) -> None:
        self.child.stop()
