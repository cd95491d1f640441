"""Prometheus metrics.

Counters of work done are kept by the process that does it (events ingested by a web
process, attempts by a worker). Whatever must be right across every process (queue
depth, the age of the oldest due delivery, what is waiting) is read from the database
when ``/metrics`` is scraped, through index ranges as large as the work waiting, never
the whole history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from connector.storage import Database, stats

log = logging.getLogger(__name__)

EVENTS_INGESTED = Counter(
    "billrun_connector_events_ingested",
    "Events accepted by this process, by path (billrun: the ingest URL; api: POST /api/v1/events; test).",
    ["path"],
)
UNCATALOGUED = Counter(
    "billrun_connector_uncatalogued_events",
    "Events from BillRun whose type the catalog does not know (kept and delivered to * and <module>.*), by type.",
    ["type"],
)
EVENTS_QUARANTINED = Counter(
    "billrun_connector_quarantined_events",
    "Events this process kept in quarantine (strict schemas: the payload fails its schema), by type.",
    ["type"],
)
# Counters labelled by event type keep at most this many types apart; later new types are counted
# as "other", so a stream of made-up types (a leaked ingest URL) cannot grow the exposition without end.
MAX_TYPE_LABELS = 200
_OTHER_TYPES = "other"


def count_type(counter: Counter, event_type: str) -> None:
    """Add one to *counter* under *event_type*, or under ``other`` once MAX_TYPE_LABELS types are known."""
    known = _types_seen.setdefault(id(counter), set())
    if event_type not in known:
        if len(known) >= MAX_TYPE_LABELS:
            event_type = _OTHER_TYPES
        else:
            known.add(event_type)
    counter.labels(event_type).inc()


_types_seen: dict[int, set[str]] = {}
ATTEMPTS = Counter(
    "billrun_connector_delivery_attempts",
    "Delivery attempts made by this process, by what the policy decided (succeeded, retry, failed, gone).",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "billrun_connector_delivery_attempt_duration_seconds",
    "Duration of the delivery attempts made by this process.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)


class QueueCollector(Collector):
    """Queue metrics read from the database at scrape time, so every process reports the same."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.db.session(write=False) as session:
                queue = stats.queue_stats(session)
        except Exception:  # a scrape must still answer while the database is down
            log.exception("reading queue metrics failed")
            return
        by_status = GaugeMetricFamily(
            "billrun_connector_deliveries",
            "Deliveries waiting (pending) or given up (failed), all processes. Completed ones are counted "
            "by billrun_connector_delivery_attempts_total.",
            labels=["status"],
        )
        by_status.add_metric(["pending"], queue.pending)
        by_status.add_metric(["failed"], queue.failed)
        yield by_status
        yield GaugeMetricFamily(
            "billrun_connector_fanout_pending_events",
            "Events stored and not yet fanned out into deliveries.",
            value=queue.events_waiting,
        )
        yield GaugeMetricFamily(
            "billrun_connector_quarantined_events_waiting",
            "Events held in quarantine (strict schemas) until released.",
            value=queue.events_quarantined,
        )
        yield GaugeMetricFamily(
            "billrun_connector_queue_depth", "Pending deliveries whose time has come.", value=queue.due
        )
        yield GaugeMetricFamily(
            "billrun_connector_queue_oldest_due_age_seconds",
            "How long the oldest due delivery has waited past its time.",
            value=queue.oldest_due_age_seconds,
        )


def render(db: Database) -> tuple[bytes, str]:
    """The exposition of this process's metrics plus the database-backed queue metrics."""
    queue_registry = CollectorRegistry(auto_describe=False)
    queue_registry.register(QueueCollector(db))
    return generate_latest(REGISTRY) + generate_latest(queue_registry), CONTENT_TYPE_LATEST
