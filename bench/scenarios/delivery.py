"""Scenario ``delivery``: the worker draining a queue against a reference pool of as many threads.

One run: a fresh database with N events and N due deliveries to one subscription on the receiver
(written in bulk). First the reference pool (``bench/references.py``) POSTs the N bodies the
worker will send, each signed, with as many threads as the worker set-up has (processes x
threads); then the worker processes start and deliver the queue. Both rates are taken at the
receiver, from its first to its last acknowledgement (so neither counts process start-up or the
worker's first poll); the worker's is also given until the database shows every delivery succeeded.
"""

from __future__ import annotations

import os
import time
from functools import partial

from bench import seed
from bench.config import WORKER_THREADS
from bench.cpu import CpuWindow, Group
from bench.databases import Databases, open_fresh
from bench.env import Env
from bench.procs import start_workers, stop, worker_group
from bench.references import Message, post_all
from bench.report import BenchError, Case, Metric, Sample, Target
from connector.envelopes import envelope, envelope_body
from connector.storage.models import Delivery, utcnow

METRICS = [
    Metric("reference_dps", "reference pool deliveries/s", "/s"),
    Metric("worker_dps", "worker deliveries/s (receiver acks)", "/s"),
    Metric("ratio", "worker / reference pool", "x", Target(">=", 0.6)),
    Metric("recorded_dps", "worker deliveries/s until recorded", "/s"),
]


def cases(env: Env, databases: Databases, processes: list[int]) -> list[Case]:
    return [
        Case(
            "delivery",
            f"{databases.kind}, {count} worker process{'es' if count > 1 else ''} x {WORKER_THREADS} threads",
            f"a queue of {env.pick(3000, 500)} due deliveries, against a reference pool of {count * WORKER_THREADS} threads",
            METRICS,
            partial(run, env, databases, count),
        )
        for count in processes
    ]


def run(env: Env, databases: Databases, processes: int) -> Sample:
    n = env.pick(3000, 500)
    url, database = open_fresh(databases, "delivery")
    ingest = seed.tenant(database)
    (subscriber,) = seed.subscriptions(database, ingest.tenant_id, [env.receiver.url("/hook")])
    data, now = seed.sample_data(), utcnow()
    event_ids = seed.events(database, ingest.tenant_id, n, created_at=now, data=data)
    seed.deliveries(database, ingest.tenant_id, ((e, subscriber.id) for e in event_ids), status="pending", at=now)
    messages = [
        Message(
            subscriber.url,
            event_id,
            envelope_body(envelope(event_id, seed.EVENT_TYPE, now, data)),
            subscriber.secret,
        )
        for event_id in event_ids
    ]

    env.receiver.reset()
    reference_window = CpuWindow([Group("reference pool", [os.getpid()]), env.receiver.cpu_group()]).start()
    post_all(messages, processes * WORKER_THREADS)
    reference = env.receiver.wait_for(n, 120)
    reference_window.stop()

    env.receiver.reset()
    children = start_workers(url, processes)
    try:
        window = CpuWindow([worker_group(children), env.receiver.cpu_group(), *databases.cpu_groups()]).start()
        delivered = env.receiver.wait_for(n, 300)
        while seed.count(database, Delivery.__table__, Delivery.status == "succeeded") < n:
            if time.monotonic() - delivered["last"] > 60:
                raise BenchError("the deliveries were not recorded as succeeded within 60 s of the last one")
            time.sleep(0.01)
        recorded = time.monotonic()
        window.stop()
    finally:
        stop(*children)
    database.dispose()
    databases.drop(url)
    reference_dps = n / (reference["last"] - reference["first"])
    worker_dps = n / (delivered["last"] - delivered["first"])
    return Sample(
        {
            "reference_dps": reference_dps,
            "worker_dps": worker_dps,
            "ratio": worker_dps / reference_dps,
            "recorded_dps": n / (recorded - delivered["first"]),
        },
        [f"reference pool: {reference_window.summary()}", f"worker: {window.summary()}"],
    )
