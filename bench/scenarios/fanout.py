"""Scenario ``fanout``: what the number of matching subscriptions costs the ingest, and how long one
event takes to reach 1,000 subscribers.

Levels (one run measures all four, each on a fresh database with its own processes): the tenant
has 1, 100, 1,000 or 10,000 active subscriptions to the ingested type, each with its own URL on
the receiver (written in bulk). The connector runs under waitress with the worker(s) of the set-up
running, so the fan-out and the deliveries really happen while the ingests are paced at 50 events/s;
p50 and p99 of the ingest per level, and the ratio of the p50s to the p50 with one subscription.

Latency: 1,000 subscriptions with distinct URLs on the receiver; the time from the start of the
ingest request to the receiver's 1,000th acknowledgement, against the reference pool
(``bench/references.py``) with as many threads as the worker set-up has delivery threads, POSTing
the same 1,000 bodies, each signed with its subscription's secret (time from its start to its
1,000th acknowledgement).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from functools import partial

from bench import seed
from bench.client import back_to_back, keep_alive, ms, paced, percentile, post
from bench.config import WORKER_THREADS
from bench.cpu import CpuWindow, Group
from bench.databases import Databases, open_fresh
from bench.env import Env
from bench.procs import App, Child, Hosting, start_app, start_workers, stop, worker_group
from bench.references import Message, post_all
from bench.report import BenchError, Case, Metric, Sample, Target
from connector import billrun, ids
from connector.envelopes import envelope, envelope_body
from connector.storage.models import Delivery, Event, utcnow

LEVELS = (1, 100, 1000, 10_000)
RATE = 50.0
FANOUT = 1000


@dataclass(frozen=True)
class Workers:
    """Where the deliveries are made: *processes* separate worker processes, or (0) the worker
    thread inside the web process, which the ingest wakes."""

    processes: int

    @property
    def threads(self) -> int:
        return max(self.processes, 1) * WORKER_THREADS

    def describe(self) -> str:
        if self.processes == 0:
            return f"in-process worker ({WORKER_THREADS} threads, woken by the ingest)"
        plural = "es" if self.processes > 1 else ""
        return f"{self.processes} worker process{plural} x {WORKER_THREADS} threads (polling every 0.1 s)"


LEVEL_METRICS = [
    *[Metric(f"p50_{n}", f"ingest p50, {n:,} subscriptions", "ms") for n in LEVELS],
    *[Metric(f"p99_{n}", f"ingest p99, {n:,} subscriptions", "ms") for n in LEVELS],
    Metric("ratio_1000", "p50 with 1,000 / p50 with 1", "x", Target("<=", 1.5)),
    Metric("ratio_10000", "p50 with 10,000 / p50 with 1", "x", Target("<=", 2.0)),
]
LATENCY_METRICS = [
    Metric("reference_s", "reference pool: 1,000 signed POSTs", "s"),
    Metric("first_s", "ingest to the first delivery", "s"),
    Metric("worker_s", "ingest to the 1,000th delivery", "s"),
    Metric("recorded_s", "ingest to all 1,000 recorded as succeeded", "s"),
    Metric("ratio", "ingest to 1,000 deliveries / reference pool", "x", Target("<=", 1.5)),
]


def cases(env: Env, databases: Databases, level_workers: list[Workers], latency_workers: list[Workers]) -> list[Case]:
    levels = [
        Case(
            "fanout",
            f"{databases.kind}, waitress, {workers.describe()}",
            "ingest latency by number of matching subscriptions, paced at 50 events/s, fan-out running",
            LEVEL_METRICS,
            partial(run_levels, env, databases, workers),
        )
        for workers in level_workers
    ]
    latency = [
        Case(
            "fanout",
            f"{databases.kind}, waitress, {workers.describe()}",
            f"one event to {FANOUT:,} subscribers with distinct URLs, against a reference pool of {workers.threads} threads",
            LATENCY_METRICS,
            partial(run_latency, env, databases, workers),
        )
        for workers in latency_workers
    ]
    return levels + latency


def _start(url: str, workers: Workers) -> tuple[App, list[Child]]:
    app = start_app(url, Hosting(), in_process_worker=workers.processes == 0)
    try:
        return app, start_workers(url, workers.processes) if workers.processes else []
    except BaseException:
        app.stop()
        raise


def run_levels(env: Env, databases: Databases, workers: Workers) -> Sample:
    sample = Sample()
    for level in LEVELS:
        url, database = open_fresh(databases, f"fanout{level}")
        ingest = seed.tenant(database)
        seed.subscriptions(database, ingest.tenant_id, [env.receiver.url(f"/s/{i}") for i in range(level)])
        app, children = _start(url, workers)
        try:
            client = keep_alive(app.port)
            back_to_back([client], ingest.path, ingest.body, ingest.headers, 20)  # warm-up (fanned out too)
            env.receiver.reset()
            written_before = seed.count(database, Delivery.__table__)
            groups = [app.cpu_group(), *([worker_group(children)] if children else []), env.receiver.cpu_group()]
            window = CpuWindow([*groups, Group("client", [os.getpid()]), *databases.cpu_groups()]).start()
            started = time.monotonic()
            latencies = [
                lat for _, lat in paced(client, ingest.path, ingest.body, ingest.headers, RATE, env.seconds(5, 2))
            ]
            window.stop()
            elapsed = time.monotonic() - started
            written = seed.count(database, Delivery.__table__) - written_before
            delivered = env.receiver.stats()["signed"]
            waiting = seed.count(database, Event.__table__, Event.fanout_state == "pending")
        finally:
            stop(*children)
            app.stop()
        database.dispose()
        databases.drop(url)
        sample.values[f"p50_{level}"] = ms(statistics.median(latencies))
        sample.values[f"p99_{level}"] = ms(percentile(latencies, 0.99))
        sample.notes.append(
            f"{level:>6,} subscriptions: p50 {sample.values[f'p50_{level}']:.2f} ms, p99 "
            f"{sample.values[f'p99_{level}']:.2f} ms, max {ms(max(latencies)):.2f} ms over {len(latencies)} ingests; "
            f"meanwhile {written / elapsed:.0f} deliveries/s written, {delivered / elapsed:.0f}/s delivered, "
            f"{waiting} events still waiting for their fan-out at the end; {window.summary()}"
        )
    sample.values["ratio_1000"] = sample.values["p50_1000"] / sample.values["p50_1"]
    sample.values["ratio_10000"] = sample.values["p50_10000"] / sample.values["p50_1"]
    return sample


def run_latency(env: Env, databases: Databases, workers: Workers) -> Sample:
    url, database = open_fresh(databases, "fanout-latency")
    ingest = seed.tenant(database)
    subscribers = seed.subscriptions(database, ingest.tenant_id, [env.receiver.url(f"/f/{i}") for i in range(FANOUT)])
    # The body the worker will send, but for the event id (made by the ingest): the same size.
    data = billrun.parse_delivery(ingest.body, ingest.headers["Content-Type"]).data
    msg_id = ids.event_id()
    body = envelope_body(envelope(msg_id, seed.EVENT_TYPE, utcnow(), data))
    messages = [Message(s.url, msg_id, body, s.secret) for s in subscribers]
    app, children = _start(url, workers)
    try:
        client = keep_alive(app.port)
        unheard = seed.billrun_body("accounts.update")  # no subscriber: warms the path up, delivers nothing
        back_to_back([client], ingest.path, unheard, ingest.headers, 20)
        time.sleep(1.0)  # the worker fans those out (to nobody) and goes idle

        env.receiver.reset()
        reference_started = post_all(messages, workers.threads)
        reference = env.receiver.wait_for(FANOUT, 60)

        env.receiver.reset()
        groups = [app.cpu_group(), *([worker_group(children)] if children else []), env.receiver.cpu_group()]
        window = CpuWindow([*groups, *databases.cpu_groups()]).start()
        started = time.monotonic()
        post(client, ingest.path, ingest.body, ingest.headers)
        delivered = env.receiver.wait_for(FANOUT, 120)
        while seed.count(database, Delivery.__table__, Delivery.status == "succeeded") < FANOUT:
            if time.monotonic() - started > 120:
                raise BenchError("the deliveries were not recorded as succeeded within 120 s")
            time.sleep(0.01)
        recorded = time.monotonic() - started
        window.stop()
    finally:
        stop(*children)
        app.stop()
    database.dispose()
    databases.drop(url)
    if delivered["paths"] != FANOUT or reference["paths"] != FANOUT:
        raise BenchError(f"expected {FANOUT} distinct URLs, got {delivered['paths']} and {reference['paths']}")
    reference_s = reference["last"] - reference_started
    worker_s = delivered["last"] - started
    return Sample(
        {
            "reference_s": reference_s,
            "first_s": delivered["first"] - started,
            "worker_s": worker_s,
            "recorded_s": recorded,
            "ratio": worker_s / reference_s,
        },
        [f"worker side: {window.summary()}"],
    )
