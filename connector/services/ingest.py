"""Ingest from BillRun: one delivery of its webhooks plugin, posted to an ingest URL.

BillRun posts once and never retries, so everything that can be checked before the transaction
is (the token's signature, the body), and the transaction is kept short: on SQLite it holds the
one write lock that the worker and every other ingest wait for.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector import billrun, ingest_urls
from connector.metrics import UNCATALOGUED
from connector.services.errors import Unauthorized
from connector.services.events import accept_event, accepted, schema_issues
from connector.services.runtime import Runtime
from connector.storage import ingest_tokens
from connector.storage.events import StoredEvent


@dataclass(frozen=True)
class Ingested:
    stored: StoredEvent
    issues: list[str]


def ingest_billrun(runtime: Runtime, token: str, body: bytes, content_type: str) -> Ingested:
    """Store one BillRun delivery for the tenant of the ingest URL whose last segment is *token*.

    Raises :class:`Unauthorized` for a token that is not this connector's or was revoked, and
    :class:`connector.billrun.WireFormatError` for a body that is not a BillRun delivery.
    """
    settings = runtime.settings
    token_id = ingest_urls.read_token(settings.secret_key, token)
    if token_id is None:
        raise Unauthorized("this ingest URL is not valid")
    delivery = billrun.parse_delivery(body, content_type, catalog=runtime.catalog, max_bytes=settings.max_body_bytes)
    event_type, data = delivery.type, delivery.data
    issues = schema_issues(runtime, event_type, data)
    catalogued = runtime.catalog.knows(event_type)
    if not catalogued:  # kept and delivered to * and <module>.*, and marked
        issues.insert(0, f"$.type: {event_type} is not in the catalog; typed by the schema of its module")
    issues.extend(delivery.notes)  # what reading the body had to change: kept, and said
    # A plain connection, not an ORM session: the ingest writes with Core statements only.
    with runtime.database.engine.begin() as connection:
        found = ingest_tokens.active_ingest_source(connection, token_id)
        if found is None:
            raise Unauthorized("this ingest URL was revoked")
        tenant_id, source = found
        stored = accept_event(
            runtime,
            connection,
            tenant_id=tenant_id,
            event_type=event_type,
            data=data,
            path="billrun",
            source=source or "billrun",
            issues=issues,
        )
    accepted(runtime, stored, "billrun")
    if stored.created and not catalogued:
        UNCATALOGUED.labels(event_type).inc()
    return Ingested(stored, issues)
