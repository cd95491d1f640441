"""Ingest from BillRun: one delivery of its webhooks plugin, posted to an ingest URL.

BillRun posts once and never retries, so everything that can be checked before the transaction
is (the token's signature, the body), and the transaction is kept short: on SQLite it holds the
one write lock that the worker and every other ingest wait for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from connector import billrun, ingest_urls
from connector.metrics import UNCATALOGUED, count_type
from connector.services.errors import Unauthorized
from connector.services.events import Verdict, accept_ingested, assess
from connector.services.runtime import Runtime
from connector.storage.events import StoredEvent


@dataclass(frozen=True)
class Ingested:
    stored: StoredEvent
    verdict: Verdict


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
    verdict = assess(runtime, event_type, data)
    # What reading the body had to change (invalid UTF-8, a field PHP drops, an odd action): kept and said,
    # never a reason to hold the event back.
    verdict = replace(verdict, notes=[*verdict.notes, *delivery.notes])
    stored = accept_ingested(runtime, token_id, event_type=event_type, data=data, verdict=verdict)
    if stored is None:
        raise Unauthorized("this ingest URL was revoked")
    if not runtime.catalog.knows(event_type):  # counted once stored: an operator sees new types arrive
        count_type(UNCATALOGUED, event_type)
    return Ingested(stored, verdict)
