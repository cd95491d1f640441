"""Encode an event payload the way BillRun's webhooks plugin sends it (PHP ``http_build_query``).

The reverse of :func:`connector.billrun.parse_delivery`, used by ``billrun-connector fire`` to
emulate BillRun: every leaf a string, ``true``/``false`` as ``1``/``0``, dates (the schema's
``date-time`` fields) as ``{sec, usec}``, lists as numeric-keyed maps, nulls and empty arrays
left out, nested keys in bracket notation, spaces as ``+`` and brackets percent-encoded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from connector.catalog import Catalog, get_catalog
from connector.schema_view import SchemaNode

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _php_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _to_wire(value: Any, node: SchemaNode | None) -> Any:
    """The PHP-array view of *value*: nested dicts of strings, or None when PHP would omit it."""
    if isinstance(value, str) and node is not None and node.date_time:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return {"sec": str(int(moment.timestamp())), "usec": str(moment.microsecond)}
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return _php_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        items = node.items if node is not None else None
        members = {str(i): _to_wire(item, items) for i, item in enumerate(value)}
        return {k: v for k, v in members.items() if v is not None} or None
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            wire = _to_wire(item, node.member(str(key)) if node is not None else None)
            if wire is not None:
                result[str(key)] = wire
        return result or None
    return str(value)


def _pairs(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _pairs(f"{prefix}[{key}]", item)]
    return [(prefix, value)]


def encode_form(event_type: str, data: dict[str, Any], catalog: Catalog | None = None) -> bytes:
    """The form body BillRun would POST for an event of *event_type* carrying *data*."""
    catalog = catalog or get_catalog()
    entry = catalog.get(event_type)
    if entry is None or not catalog.deliverable(event_type):
        raise ValueError(f"{event_type!r} is not a concrete event type of the catalog")
    module, _, action = event_type.partition(".")
    wire = _to_wire(data, catalog.data_schema(event_type)) or {}
    pairs = [("module", module), ("action", action)]
    for key, item in wire.items():
        pairs += _pairs(key, item)
    return urlencode(pairs).encode()
