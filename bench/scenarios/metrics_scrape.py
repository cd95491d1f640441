"""Scenario ``metrics``: what a Prometheus scrape of ``/metrics`` costs with a long delivery history.

One run: a fresh database with 200,000 deliveries (4 per event, 50,000 events), 95 % succeeded,
4 % pending and due, 1 % failed, plus 100 events waiting for their fan-out and 20 in quarantine
(written in bulk). Then ``GET /metrics`` over HTTP (the connector under waitress, no worker, one
keep-alive client): the median of many scrapes is judged. The same exposition rendered in the
bench process (``connector.metrics.render``, the database reads and the text, no HTTP) shows the
share of the database; its CPU time per scrape is less disturbed by other jobs than wall time.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from functools import partial

from bench import seed
from bench.client import keep_alive, ms, percentile
from bench.databases import Databases, open_fresh
from bench.env import Env
from bench.procs import Hosting, start_app
from bench.report import BenchError, Case, Metric, Sample, Target
from connector.metrics import render
from connector.storage.models import utcnow

PER_EVENT = 4

METRICS = [
    Metric("http_p50", "GET /metrics over HTTP, median", "ms", Target("<=", 5.0)),
    Metric("http_p90", "GET /metrics over HTTP, p90", "ms"),
    Metric("render_p50", "render() in-process, median", "ms"),
    Metric("render_cpu", "render() in-process, CPU time", "ms"),
]


def cases(env: Env, databases: Databases) -> list[Case]:
    total = env.pick(200_000, 40_000)
    return [
        Case(
            "metrics",
            f"{databases.kind}, waitress, {total:,} deliveries",
            "a /metrics scrape with a long delivery history",
            METRICS,
            partial(run, env, databases, total),
        )
    ]


def run(env: Env, databases: Databases, total: int) -> Sample:
    scrapes = env.pick(300, 60)
    url, database = open_fresh(databases, "metrics")
    ingest = seed.tenant(database)
    subscribers = seed.subscriptions(
        database, ingest.tenant_id, [env.receiver.url(f"/m/{i}") for i in range(PER_EVENT)]
    )
    at = utcnow() - timedelta(days=1)
    small = {"after": {"aid": 1, "sid": 12, "plan": "D"}}
    event_ids = seed.events(database, ingest.tenant_id, total // PER_EVENT, created_at=at, data=small)
    pairs = [(e, s.id) for e in event_ids for s in subscribers]
    pending, failed = len(pairs) * 4 // 100, len(pairs) // 100
    tenant_id = ingest.tenant_id
    seed.deliveries(database, tenant_id, pairs[:pending], status="pending", at=at)
    seed.deliveries(database, tenant_id, pairs[pending : pending + failed], status="failed", at=at)
    seed.deliveries(database, tenant_id, pairs[pending + failed :], status="succeeded", at=at)
    seed.events(database, tenant_id, 100, created_at=utcnow(), data=small, fanout_state="pending")
    seed.events(database, tenant_id, 20, created_at=utcnow(), data=small, fanout_state="quarantined")

    app = start_app(url, Hosting())
    try:
        client = keep_alive(app.port)
        scraped = []
        for number in range(scrapes + 10):
            started = time.perf_counter()
            response = client.urlopen("GET", "/metrics")
            elapsed = time.perf_counter() - started
            if response.status != 200 or b"billrun_connector_deliveries" not in response.data:
                raise BenchError(f"/metrics answered {response.status} without the queue metrics")
            if number >= 10:  # the first ones warm up
                scraped.append(elapsed)
        exposition = response.data.decode()
    finally:
        app.stop()
    render(database)  # warm-up
    rendered = []
    cpu_started = time.thread_time()
    for _ in range(scrapes):
        started = time.perf_counter()
        render(database)
        rendered.append(time.perf_counter() - started)
    render_cpu = (time.thread_time() - cpu_started) / scrapes
    database.dispose()
    databases.drop(url)
    shown = [
        line
        for line in exposition.splitlines()
        if line.startswith(
            ("billrun_connector_deliveries{", "billrun_connector_queue_depth", "billrun_connector_fanout")
        )
    ]
    return Sample(
        {
            "http_p50": ms(statistics.median(scraped)),
            "http_p90": ms(percentile(scraped, 0.9)),
            "render_p50": ms(statistics.median(rendered)),
            "render_cpu": ms(render_cpu),
        },
        [f"{scrapes} scrapes each way; the scrape read: " + "; ".join(shown)],
    )
