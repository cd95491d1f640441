"""Where an ingest request's time goes: each step of the path timed alone, in the bench process,
one thread, on the run's database and the same BillRun body. Each step is the CPU time of the
thread per call (the median of 5 batches), which other jobs on the machine disturb less than wall
time; the whole ``ingest_billrun()`` is also given in wall time, which adds what the thread waits
for (the database server, on PostgreSQL). The steps follow ``connector/services/ingest.py`` and
``connector/api/ingest.py``."""

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
from connector.services.events import accept_event, assess
from connector.services.ingest import ingest_billrun
from connector.services.runtime import Runtime
from connector.storage import ingest_tokens

BATCHES = 5


def _timed(step: Callable[[], Any], calls: int, clock: Callable[[], float] = time.thread_time) -> float:
    """Seconds per call on *clock*: the median of BATCHES batches' means."""
    means = []
    per_batch = max(1, calls // BATCHES)
    for _ in range(BATCHES):
        started = clock()
        for _ in range(per_batch):
            step()
        means.append((clock() - started) / per_batch)
    return statistics.median(means)


def _through_wsgi(app: Any, path: str, ingest: Ingest, calls: int) -> float:
    """Seconds per request through the Flask app as a WSGI server calls it (no server, no socket)."""
    per_batch = max(1, calls // BATCHES)
    environs = iter(
        [
            EnvironBuilder(path=path, method="POST", data=ingest.body, headers=ingest.headers).get_environ()
            for _ in range(per_batch * BATCHES)
        ]
    )

    def call() -> None:
        statuses: list[str] = []
        answer = app(next(environs), lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{path[:30]} answered {statuses[0]}")

    return _timed(call, per_batch * BATCHES)


def breakdown(database_url: str, ingest: Ingest, calls: int, http_noop_p50: float) -> tuple[dict[str, float], str]:
    """The steps in milliseconds per ingest, and a line that puts them together."""
    app = create_app(settings(database_url, in_process_worker=False))
    add_noop(app)
    runtime: Runtime = app.extensions["billrun_connector.runtime"]
    content_type = ingest.headers["Content-Type"]
    secret_key = runtime.settings.secret_key
    token_id = ingest_urls.read_token(secret_key, ingest.token)
    assert token_id is not None
    event_type, data = billrun.parse_delivery(ingest.body, content_type, catalog=runtime.catalog)
    verdict = assess(runtime, event_type, data)
    engine = runtime.database.engine

    def empty_transaction() -> None:
        with engine.begin():
            pass

    def token_row() -> None:
        with engine.begin() as connection:
            ingest_tokens.active_ingest_source(connection, token_id)

    def write_event() -> None:  # as ingest_billrun does it, minus the steps before the transaction
        with engine.begin() as connection:
            found = ingest_tokens.active_ingest_source(connection, token_id)
            assert found is not None
            accept_event(
                runtime,
                connection,
                tenant_id=found[0],
                event_type=event_type,
                data=data,
                path="billrun",
                source=found[1],
                verdict=verdict,
            )

    seconds = {
        "token signature (cached)": _timed(lambda: ingest_urls.read_token(secret_key, ingest.token), calls),
        "form decode + normalise": _timed(
            lambda: billrun.parse_delivery(ingest.body, content_type, catalog=runtime.catalog), calls
        ),
        "schema verdict": _timed(lambda: assess(runtime, event_type, data), calls),
        "BEGIN + COMMIT": _timed(empty_transaction, calls),
        "token row": _timed(token_row, calls),
        "transaction with token row + event INSERT": _timed(write_event, calls),
        "ingest_billrun() whole": _timed(
            lambda: ingest_billrun(runtime, ingest.token, ingest.body, content_type), calls
        ),
        "ingest_billrun() wall": _timed(
            lambda: ingest_billrun(runtime, ingest.token, ingest.body, content_type), calls, time.perf_counter
        ),
        "ingest through the Flask app": _through_wsgi(app, ingest.path, ingest, calls),
        "no-op through the Flask app": _through_wsgi(app, NOOP_PATH + ingest.token, ingest, calls),
    }
    runtime.database.dispose()
    ms = {name: value * 1000 for name, value in seconds.items()}
    event_insert = ms["transaction with token row + event INSERT"] - ms["token row"]
    token_read = ms["token row"] - ms["BEGIN + COMMIT"]
    flask_ingest = ms["ingest through the Flask app"] - ms["ingest_billrun() whole"]
    server = http_noop_p50 * 1000 - ms["no-op through the Flask app"]
    line = (
        f"ingest steps, CPU ms per request (in-process, one thread): whole view through Flask "
        f"{ms['ingest through the Flask app']:.3f} = Flask, routing and JSON answer {flask_ingest:.3f} "
        f"+ ingest_billrun() {ms['ingest_billrun() whole']:.3f} (wall {ms['ingest_billrun() wall']:.3f}) [token signature {ms['token signature (cached)']:.3f}, "
        f"form decode + normalise {ms['form decode + normalise']:.3f}, schema verdict {ms['schema verdict']:.3f}, "
        f"BEGIN + COMMIT {ms['BEGIN + COMMIT']:.3f}, token row {token_read:.3f}, event INSERT {event_insert:.3f}]; "
        f"the no-op through Flask {ms['no-op through the Flask app']:.3f}; server, loopback and client "
        f"(HTTP no-op p50, wall, minus its Flask CPU time) {server:.3f}"
    )
    return ms, line
