"""Scenario ``retention``: ingest latency while the worker purges a large history behind a backlog.

One run, SQLite: written in bulk, 60,000 events past retention (40 days old, spread over a few
hours), each with a succeeded delivery and its attempt, except every 60th, whose delivery is still
pending (those must survive the purge); and recent events with pending deliveries (retrying in an
hour, to targets that are down), 30,000 pending deliveries in all. The tenant's one subscription to
the ingested type points at the receiver.

The ingest is paced at 200 events/s from the start; after a baseline, one worker process starts
with ``purge_every_seconds`` at 0.2 s, so it purges at once and keeps at it (each purge call is
bounded by the worker's own budget) while it fans out and delivers the new events. The bench reads
the number of old events left every 0.25 s (a read transaction) until only the kept ones are left,
or a time bound passes. Latencies are those of the ingests started while the purge ran.

Where the time goes: the seeded database is copied before the run, and afterwards the purge's
batches (``connector.storage.retention.purge_batch``, as the worker calls it) are timed one by one
on the copy, in the bench process with nothing else running: each holds SQLite's write lock that long.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from bench import seed
from bench.client import PacedInBackground, back_to_back, keep_alive, ms, percentile
from bench.config import settings
from bench.cpu import CpuWindow, Group
from bench.databases import Databases, open_fresh
from bench.env import Env
from bench.procs import Hosting, start_app, start_workers, stop, worker_group
from bench.report import BenchError, Case, Metric, Sample, Target
from connector.storage import Database, retention
from connector.storage.models import Delivery, Event, utcnow

RATE = 200.0
PURGE_EVERY = 0.2
KEEP_EVERY = 60  # one old event in 60 still has a pending delivery
BACKLOG_SUBSCRIPTIONS = 10
OTHER_TYPE = "accounts.update"  # the history's type: the ingested events do not reach its subscribers

METRICS = [
    Metric("before_p99", "ingest p99 before the purge", "ms"),
    Metric("p50", "ingest p50 during the purge", "ms"),
    Metric("p99", "ingest p99 during the purge", "ms", Target("<=", 20.0)),
    Metric("max", "ingest max during the purge", "ms", Target("<=", 100.0)),
    Metric("purge_s", "purge duration", "s"),
    Metric("purged_share", "share of the purgeable events purged", "x"),
]


def cases(env: Env, databases: Databases) -> list[Case]:
    old, pending = env.pick(60_000, 12_000), env.pick(30_000, 6_000)
    return [
        Case(
            "retention",
            f"{databases.kind}, waitress, 1 worker process purging every {PURGE_EVERY} s",
            f"paced ingest at 200/s while {old:,} events past retention are purged behind {pending:,} pending deliveries",
            METRICS,
            partial(run, env, databases, old, pending),
        )
    ]


def run(env: Env, databases: Databases, old: int, pending: int) -> Sample:
    bound = env.seconds(150, 45)
    url, database = open_fresh(databases, "retention")
    ingest = seed.tenant(database)
    seed.subscriptions(database, ingest.tenant_id, [env.receiver.url("/retention")])
    down = [f"http://127.0.0.1:9/down/{i}" for i in range(BACKLOG_SUBSCRIPTIONS)]
    backlog = seed.subscriptions(database, ingest.tenant_id, down, events=(OTHER_TYPE,))
    data = seed.sample_data(OTHER_TYPE)
    keep_for = timedelta(days=settings(url).retention_days)
    old_at, later = utcnow() - keep_for - timedelta(days=10), utcnow() + timedelta(hours=1)
    old_ids = seed.events(
        database,
        ingest.tenant_id,
        old,
        created_at=old_at,
        data=data,
        event_type=OTHER_TYPE,
        spread=timedelta(seconds=0.2),
    )
    kept = old_ids[::KEEP_EVERY]
    kept_ids = set(kept)
    settled = ((e, backlog[0].id) for e in old_ids if e not in kept_ids)
    seed.deliveries(database, ingest.tenant_id, settled, status="succeeded", at=old_at, with_attempt=True)
    seed.deliveries(
        database,
        ingest.tenant_id,
        ((e, backlog[0].id) for e in kept),
        status="pending",
        at=old_at,
        next_attempt_at=later,
    )
    recent_at = utcnow() - timedelta(hours=2)
    recent = seed.events(
        database,
        ingest.tenant_id,
        (pending - len(kept)) // len(backlog),
        created_at=recent_at,
        data=data,
        event_type=OTHER_TYPE,
    )
    pairs = ((e, s.id) for e in recent for s in backlog)
    seed.deliveries(database, ingest.tenant_id, pairs, status="pending", at=recent_at, next_attempt_at=later)
    backlog_size = seed.count(database, Delivery.__table__, Delivery.status == "pending")
    database.dispose()  # closing the last connection checkpoints the WAL: the file alone is the database
    copy = Path(url.removeprefix("sqlite:///") + ".copy")
    shutil.copyfile(url.removeprefix("sqlite:///"), copy)

    def old_left() -> int:
        return seed.count(database, Event.__table__, Event.created_at < utcnow() - keep_for)

    app = start_app(url, Hosting())
    children = []
    try:
        client = keep_alive(app.port)
        back_to_back([client], ingest.path, ingest.body, ingest.headers, 100)
        background = PacedInBackground(client, ingest.path, ingest.body, ingest.headers, RATE, bound + 10)
        time.sleep(env.seconds(3, 1.5))
        purge_requested = time.monotonic()
        children = start_workers(url, 1, purge_every=PURGE_EVERY)
        window = CpuWindow(
            [app.cpu_group(), worker_group(children), Group("client", [os.getpid()]), env.receiver.cpu_group()]
        ).start()
        purge_started = time.monotonic()
        left = old
        while left > len(kept) and time.monotonic() - purge_started < bound:
            time.sleep(0.25)
            left = old_left()
        purge_ended = time.monotonic()
        window.stop()
        time.sleep(0.5)
        timings = background.finish()
    finally:
        stop(*children)
        app.stop()
    backlog_after = seed.count(
        database,
        Delivery.__table__,
        Delivery.status == "pending",
        Delivery.subscription_id.in_([s.id for s in backlog]),
    )
    database.dispose()
    databases.drop(url)
    batches = _time_batches(f"sqlite:///{copy}", utcnow() - keep_for)
    databases.drop(f"sqlite:///{copy}")
    if left < len(kept) or backlog_after != backlog_size:
        raise BenchError(
            f"the purge deleted what was still pending: {left} old events left of {len(kept)} kept, "
            f"{backlog_after} pending deliveries of {backlog_size}"
        )
    before = [lat for began, lat in timings if began < purge_requested]
    during = [lat for began, lat in timings if purge_started <= began <= purge_ended]
    if not during:
        raise BenchError("no ingest ran during the purge")
    purgeable = old - len(kept)
    finished = left == len(kept)
    values = {
        "before_p99": ms(percentile(before, 0.99)),
        "p50": ms(statistics.median(during)),
        "p99": ms(percentile(during, 0.99)),
        "max": ms(max(during)),
        "purge_s": purge_ended - purge_started,
        "purged_share": (old - left) / purgeable,
    }
    state = "finished" if finished else f"NOT finished within {bound:.0f} s"
    slowest = sorted(((lat, began) for began, lat in timings if began >= purge_started), reverse=True)[:5]
    notes = [
        f"purge {state}: {old - left:,} of {purgeable:,} purgeable events gone in {values['purge_s']:.1f} s "
        f"(from the worker's start; {len(kept):,} old events with a pending delivery kept, "
        f"{backlog_after:,} pending deliveries untouched); {len(during)} ingests during it, {len(before)} before",
        "slowest ingests from the purge's start: "
        + ", ".join(f"{ms(lat):.0f} ms at +{began - purge_started:.1f} s" for lat, began in slowest),
        f"purge batches of {retention.BATCH} events timed alone on a copy of the seeded database: {len(batches)} batches, "
        f"median {ms(statistics.median(batches)):.1f} ms, max {ms(max(batches)):.1f} ms each",
        window.summary(),
    ]
    return Sample(values, notes)


def _time_batches(url: str, cutoff: datetime) -> list[float]:
    """Seconds per purge batch, the whole purge run batch after batch on its own."""
    database = Database(url)
    seconds, after = [], None
    while True:
        started = time.perf_counter()
        with database.session() as session:
            after = retention.purge_batch(session, cutoff, after).after
        seconds.append(time.perf_counter() - started)
        if after is None:
            database.dispose()
            return seconds
