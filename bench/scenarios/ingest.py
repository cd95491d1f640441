"""Scenario ``ingest``: the ingest endpoint against the no-op endpoint on the same server.

One run: a fresh database with a tenant, its ingest URL and one matching subscription; the
connector on the given hosting, no worker. Then
1. warm-up, then both endpoints in alternating blocks, back to back (one client per web process),
   the same BillRun form body: requests/s and latency of each, and their ratio;
2. the ingest alone paced at 200 events/s: p50, p99, max (the events wait for their fan-out);
3. the same pace with one worker process fanning out and delivering each event to the receiver
   (the events of steps 1-2 are marked fanned out first, so the worker has only the new ones);
4. the steps of one ingest timed in-process (``ingest_steps``).
"""

from __future__ import annotations

import os
import statistics
from functools import partial

from bench import seed
from bench.client import alternating, back_to_back, keep_alive, ms, paced, percentile
from bench.cpu import CpuWindow, Group
from bench.databases import Databases, open_fresh
from bench.env import Env
from bench.noop import NOOP_PATH
from bench.procs import Hosting, start_app, start_workers, stop, worker_group
from bench.report import Case, Metric, Sample, Target
from bench.scenarios.ingest_steps import breakdown
from connector.storage.models import Event

RATE = 200.0

METRICS = [
    Metric("noop_rps", "no-op requests/s", "/s"),
    Metric("ingest_rps", "ingest requests/s", "/s"),
    Metric("ratio", "ingest / no-op requests/s", "x", Target(">=", 0.6)),
    Metric("noop_p50", "no-op p50 back to back", "ms"),
    Metric("ingest_p50", "ingest p50 back to back", "ms"),
    Metric("ingest_p99", "ingest p99 back to back", "ms"),
    Metric("paced_p50", "ingest p50 at 200/s", "ms"),
    Metric("paced_p99", "ingest p99 at 200/s", "ms", Target("<=", 10.0)),
    Metric("paced_max", "ingest max at 200/s", "ms"),
    Metric("worker_p99", "ingest p99 at 200/s, worker delivering", "ms"),
]


def cases(env: Env, databases: Databases, hostings: list[Hosting]) -> list[Case]:
    return [
        Case(
            "ingest",
            f"{databases.kind}, {hosting.describe()}",
            "POST /ingest/billrun/<token> against the no-op endpoint of the same app",
            METRICS,
            partial(run, env, databases, hosting),
        )
        for hosting in hostings
    ]


def run(env: Env, databases: Databases, hosting: Hosting) -> Sample:
    requests = env.pick(2000, 400)
    url, database = open_fresh(databases, "ingest")
    ingest = seed.tenant(database)
    seed.subscriptions(database, ingest.tenant_id, [env.receiver.url("/ingest")])
    sample = Sample()
    app = start_app(url, hosting)
    workers = []
    try:
        clients = [keep_alive(app.port) for _ in range(hosting.processes)]
        paths = (NOOP_PATH + ingest.token, ingest.path)
        for path in paths:
            back_to_back(clients, path, ingest.body, ingest.headers, env.pick(200, 50))
        window = CpuWindow([app.cpu_group(), Group("client", [os.getpid()]), *databases.cpu_groups()]).start()
        noop, ingested = alternating(clients, paths, ingest.body, ingest.headers, requests)
        window.stop()
        paced_alone = [
            lat for _, lat in paced(clients[0], ingest.path, ingest.body, ingest.headers, RATE, env.seconds(10, 3))
        ]

        with database.engine.begin() as connection:  # the worker starts with no backlog
            connection.execute(Event.__table__.update().values(fanout_state="done"))
        env.receiver.reset()
        workers = start_workers(url, 1)
        with_worker_window = CpuWindow(
            [app.cpu_group(), worker_group(workers), env.receiver.cpu_group(), *databases.cpu_groups()]
        ).start()
        with_worker = [
            lat for _, lat in paced(clients[0], ingest.path, ingest.body, ingest.headers, RATE, env.seconds(5, 2))
        ]
        with_worker_window.stop()
        delivered = env.receiver.stats()["signed"]
    finally:
        stop(*workers)
        app.stop()
    try:
        steps_line = breakdown(url, ingest, env.pick(1000, 300), noop.p50)
    except Exception as exc:  # the breakdown follows the ingest's internals: say so rather than lose the run
        steps_line = f"ingest steps not measured: {type(exc).__name__}: {exc}"
    database.dispose()
    databases.drop(url)
    sample.values = {
        "noop_rps": noop.rate,
        "ingest_rps": ingested.rate,
        "ratio": ingested.rate / noop.rate,
        "noop_p50": ms(noop.p50),
        "ingest_p50": ms(ingested.p50),
        "ingest_p99": ms(ingested.p99),
        "paced_p50": ms(statistics.median(paced_alone)),
        "paced_p99": ms(percentile(paced_alone, 0.99)),
        "paced_max": ms(max(paced_alone)),
        "worker_p99": ms(percentile(with_worker, 0.99)),
    }
    sample.notes = [
        f"{len(noop.latencies)} + {len(ingested.latencies)} requests back to back, {len(paced_alone)} paced; "
        f"{len(with_worker)} paced with the worker (the receiver got {delivered} deliveries meanwhile, "
        f"p50 {ms(statistics.median(with_worker)):.2f} ms, max {ms(max(with_worker)):.2f} ms)",
        f"back to back: {window.summary()}",
        f"paced with the worker: {with_worker_window.summary()}",
        steps_line,
    ]
    return sample
