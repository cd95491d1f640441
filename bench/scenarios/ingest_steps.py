"""Where an ingest request's time goes: each step of the path timed alone, in the bench process,
one thread, on the run's database and the same BillRun body.

Each step is the CPU time of the thread per call (the median of 5 batches), which other jobs on
the machine disturb less than wall time; the write and the whole ``ingest_billrun()`` are also
given in wall time, which adds what the thread waits for (the write lock, the database server).
The steps are the functions ``ingest_billrun()`` calls (``connector/services/ingest.py``), and the
Flask app around it as a WSGI server calls it; an empty transaction on the driver's connection
(pool checkout, BEGIN, COMMIT) shows the fixed share of the write.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

from bench.config import settings
from bench.noop import NOOP_PATH, add_noop
from bench.seed import Ingest
from connector import billrun, ingest_urls
from connector.app import create_app
from connector.services.events import accept_ingested, assess
from connector.services.ingest import ingest_billrun
from connector.services.runtime import Runtime

BATCHES = 5


def _timed(step: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Seconds per call of the thread's CPU and of the wall clock, over the same calls: the median
    of BATCHES batches' means for each."""
    cpu, wall = [], []
    per_batch = max(1, calls // BATCHES)
    for _ in range(BATCHES):
        cpu_started, wall_started = time.thread_time(), time.perf_counter()
        for _ in range(per_batch):
            step()
        cpu.append((time.thread_time() - cpu_started) / per_batch)
        wall.append((time.perf_counter() - wall_started) / per_batch)
    return statistics.median(cpu), statistics.median(wall)


def _wsgi_call(app: Any, path: str, ingest: Ingest, calls: int) -> Callable[[], None]:
    """One request through the Flask app as a WSGI server makes it (no server, no socket); the
    environments are built beforehand."""
    environs = iter(
        [
            EnvironBuilder(path=path, method="POST", data=ingest.body, headers=ingest.headers).get_environ()
            for _ in range(calls + BATCHES)
        ]
    )

    def call() -> None:
        statuses: list[str] = []
        answer = app(next(environs), lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{path[:30]} answered {statuses[0]}")

    return call


def _empty_transaction(runtime: Runtime) -> Callable[[], None]:
    engine = runtime.database.engine
    sqlite = engine.dialect.name == "sqlite"

    def transaction() -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE" if sqlite else "SELECT 1")  # SQLite: autocommit until BEGIN
            connection.commit()
        finally:
            connection.close()

    return transaction


def breakdown(database_url: str, ingest: Ingest, calls: int, http_noop_p50: float) -> str:
    """A line that puts the steps of one ingest together, in milliseconds."""
    app = create_app(settings(database_url, in_process_worker=False))
    add_noop(app)
    runtime: Runtime = app.extensions["billrun_connector.runtime"]
    content_type = ingest.headers["Content-Type"]
    secret_key = runtime.settings.secret_key
    token_id = ingest_urls.read_token(secret_key, ingest.token)
    assert token_id is not None
    delivery = billrun.parse_delivery(ingest.body, content_type, catalog=runtime.catalog)
    event_type, data = delivery.type, delivery.data
    verdict = assess(runtime, event_type, data)

    def write() -> None:
        accept_ingested(runtime, token_id, event_type=event_type, data=data, verdict=verdict)

    def whole() -> None:
        ingest_billrun(runtime, ingest.token, ingest.body, content_type)

    steps = {
        "signature": lambda: ingest_urls.read_token(secret_key, ingest.token),
        "parse": lambda: billrun.parse_delivery(ingest.body, content_type, catalog=runtime.catalog),
        "verdict": lambda: assess(runtime, event_type, data),
        "empty": _empty_transaction(runtime),
        "write": write,
        "service": whole,
        "flask": _wsgi_call(app, ingest.path, ingest, calls),
        "noop": _wsgi_call(app, NOOP_PATH + ingest.token, ingest, calls),
    }
    ms, wall_ms = {}, {}
    for name, step in steps.items():
        cpu, wall = _timed(step, calls)
        ms[name], wall_ms[name] = cpu * 1000, wall * 1000
    runtime.database.dispose()
    return (
        f"ingest steps, CPU ms per request (in-process, one thread): through the Flask app {ms['flask']:.3f} = "
        f"Flask, routing and JSON answer {ms['flask'] - ms['service']:.3f} + ingest_billrun() {ms['service']:.3f} "
        f"(wall {wall_ms['service']:.3f}) [token signature {ms['signature']:.3f}, form decode + normalise "
        f"{ms['parse']:.3f}, schema verdict {ms['verdict']:.3f}, write {ms['write']:.3f} (wall {wall_ms['write']:.3f}; "
        f"of which an empty transaction {ms['empty']:.3f})]; the no-op through the Flask app {ms['noop']:.3f}; "
        f"server, loopback and client (HTTP no-op p50, wall, minus its Flask CPU time) {http_noop_p50 * 1000 - ms['noop']:.3f}"
    )
