"""The delivery body of an event, ``{"id", "type", "timestamp", "data"}``: as data, and as the exact
bytes that are signed and sent.

The payload is stored as the same compact JSON text the body carries (:func:`to_json` is the
storage's serializer too), so a worker splices the stored text into the body as it is: no payload
is decoded and encoded again for each attempt.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def to_json(value: Any) -> str:
    """Compact JSON text, with text other than ASCII kept as it is.

    Text holding a lone surrogate (none is stored since the ingest replaces them; an event stored
    before may hold one) cannot be UTF-8: then every character beyond ASCII is escaped instead.
    """
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(event_id: str, event_type: str, timestamp: datetime, data: Any) -> dict[str, Any]:
    """The delivery body of an event as data."""
    return {"id": event_id, "type": event_type, "timestamp": timestamp_text(timestamp), "data": data}


def body_bytes(event_id: str, event_type: str, timestamp: datetime, data_json: str) -> bytes:
    """The delivery body as sent, around the payload's JSON text *data_json*."""
    head = to_json({"id": event_id, "type": event_type, "timestamp": timestamp_text(timestamp)})
    return f'{head[:-1]},"data":{data_json}}}'.encode()


def envelope_body(body: dict[str, Any]) -> bytes:
    """The bytes of an envelope given as data (a sample, a test's event)."""
    head = to_json({"id": body["id"], "type": body["type"], "timestamp": body["timestamp"]})
    return f'{head[:-1]},"data":{to_json(body["data"])}}}'.encode()
