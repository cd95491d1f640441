"""Encode an event payload the way BillRun's webhooks plugin sends it (PHP ``http_build_query``).

The reverse of :func:`connector.billrun.parse_delivery`, used by ``billrun-connector fire`` to
emulate BillRun: every leaf a string, ``true``/``false`` as ``1``/``0``, dates (the schema's
``date-time`` fields) as ``{sec, usec}``, lists as numeric-keyed maps, nulls and empty arrays
left out, nested keys in bracket notation, spaces as ``+`` and brackets percent-encoded.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connector.catalog import Catalog, get_catalog

if TYPE_CHECKING:
    from referencing._core import Resolver

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _facets(schema: Any, resolver: Resolver[Any]) -> list[tuple[dict[str, Any], Resolver[Any]]]:
    """*schema* and everything it pulls in through ``$ref`` and ``allOf``, each with its resolver."""
    if not isinstance(schema, dict):
        return []
    found = [(schema, resolver)]
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        found += _facets(resolved.contents, resolved.resolver)
    for part in schema.get("allOf", ()):
        found += _facets(part, resolver)
    return found


def _php_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _to_wire(value: Any, schema: Any, resolver: Resolver[Any]) -> Any:
    """The PHP-array view of *value*: nested dicts of strings, or None when PHP would omit it."""
    facets = _facets(schema, resolver)
    if isinstance(value, str) and any(f.get("format") == "date-time" for f, _ in facets):
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
        item_schemas = [(f["items"], r) for f, r in facets if "items" in f]
        item_schema, item_resolver = item_schemas[0] if item_schemas else ({}, resolver)
        members = {str(i): _to_wire(item, item_schema, item_resolver) for i, item in enumerate(value)}
        return {k: v for k, v in members.items() if v is not None} or None
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            sub, sub_resolver = _member_schema(facets, key, resolver)
            wire = _to_wire(item, sub, sub_resolver)
            if wire is not None:
                result[str(key)] = wire
        return result or None
    return str(value)


def _member_schema(
    facets: list[tuple[dict[str, Any], Resolver[Any]]], key: str, resolver: Resolver[Any]
) -> tuple[Any, Resolver[Any]]:
    for facet, facet_resolver in facets:
        if key in facet.get("properties", {}):
            return facet["properties"][key], facet_resolver
    for facet, facet_resolver in facets:
        if isinstance(facet.get("additionalProperties"), dict):
            return facet["additionalProperties"], facet_resolver
    return {}, resolver


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
    resolver = catalog.resolver(event_type)
    data_schema = resolver.lookup(f"{catalog.schema_uri(event_type)}#/properties/data")
    wire = _to_wire(data, data_schema.contents, data_schema.resolver) or {}
    pairs = [("module", module), ("action", action)]
    for key, item in wire.items():
        pairs += _pairs(key, item)
    return urlencode(pairs).encode()
