"""Encode an event payload the way BillRun's webhooks plugin sends it (PHP ``http_build_query``).

The reverse of :func:`connector.billrun.parse_delivery`, used by ``billrun-connector fire`` to
emulate BillRun: the schema's ``date-time`` fields become Mongo dates ``{sec, usec}``, and
:func:`connector.php.http_build_query` writes the rest as PHP does (``true``/``false`` as ``1``/``0``,
floats with PHP's precision, lists as numeric-keyed maps, nulls and empty arrays left out, nested keys
in bracket notation, spaces as ``+``, brackets and ``~`` percent-encoded).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connector import php
from connector.catalog import Catalog, get_catalog
from connector.schema_view import SchemaNode

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _mongo_date(text: str) -> dict[str, int] | str:
    """An ISO 8601 date as PHP form-encodes a Mongo date: whole seconds since 1970 and microseconds."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    since = moment - _EPOCH
    return {"sec": since // timedelta(seconds=1), "usec": since.microseconds}


def _php_values(value: Any, node: SchemaNode | None) -> Any:
    """*value* as the PHP values BillRun holds: the schema's dates as ``{sec, usec}``, the rest unchanged."""
    if isinstance(value, str) and node is not None and node.date_time:
        return _mongo_date(value)
    if isinstance(value, list):
        items = node.items if node is not None else None
        return [_php_values(item, items) for item in value]
    if isinstance(value, dict):
        return {
            key: _php_values(item, node.member(str(key)) if node is not None else None) for key, item in value.items()
        }
    return value


def encode_form(event_type: str, data: dict[str, Any], catalog: Catalog | None = None) -> bytes:
    """The form body BillRun would POST for an event of *event_type* carrying *data*: ``module``,
    ``action``, then the payload's keys in their order (BillRun's own: ``before``, ``after``, ``modifiedUser``)."""
    catalog = catalog or get_catalog()
    if not catalog.deliverable(event_type):
        raise ValueError(f"{event_type!r} is not a concrete event type of the catalog")
    module, _, action = event_type.partition(".")
    payload = _php_values(data, catalog.data_schema(event_type))
    return php.http_build_query({"module": module, "action": action, **payload}).encode("ascii")
