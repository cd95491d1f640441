"""Small helpers that keep the field definitions in :mod:`connector.schemagen.fields` compact.

Every document lives one folder below ``schemas/``, so shared definitions are referenced
as ``../common/types.json#/$defs/<name>`` from anywhere.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

TYPES = "../common/types.json"


def _with(schema: Schema, desc: str, extra: dict[str, Any]) -> Schema:
    schema = {**schema, "description": desc} if desc else dict(schema)
    schema.update(extra)
    return schema


def s(desc: str, **extra: Any) -> Schema:
    """A string."""
    return _with({"type": "string"}, desc, extra)


def i(desc: str, **extra: Any) -> Schema:
    """An integer (BillRun sends a string of digits)."""
    return _with({"type": "integer"}, desc, extra)


def n(desc: str, **extra: Any) -> Schema:
    """A number."""
    return _with({"type": "number"}, desc, extra)


def b(desc: str, **extra: Any) -> Schema:
    """A boolean (BillRun sends ``1`` or ``0``)."""
    return _with({"type": "boolean"}, desc, extra)


def or_string(schema: Schema) -> Schema:
    """*schema*'s type, or a string: for fields BillRun declares as strings (an empty one means unset).

    An ``anyOf`` of the two types, not a ``type`` list: ajv's strict mode refuses union types.
    The description stays outside the branches; every other keyword goes into the typed branch.
    """
    typed = {key: value for key, value in schema.items() if key != "description"}
    either: Schema = {"anyOf": [typed, {"type": "string"}]}
    if "description" in schema:
        either["description"] = schema["description"]
    return either


def shared(name: str, desc: str = "", **extra: Any) -> Schema:
    """A reference to a definition of ``common/types.json``."""
    return _with({"$ref": f"{TYPES}#/$defs/{name}"}, desc, extra)


def date(desc: str) -> Schema:
    """An ISO 8601 UTC date (BillRun sends ``{sec, usec}``)."""
    return shared("date", desc)


def money(desc: str) -> Schema:
    """An amount of money."""
    return shared("money", desc)


def ref(document: str, desc: str = "") -> Schema:
    """A reference to another document, e.g. ``../entities/subscribers.json``."""
    return _with({"$ref": document}, desc, {})


def obj(
    desc: str,
    props: dict[str, Schema] | None = None,
    *,
    required: tuple[str, ...] = (),
    values: Schema | None = None,
    **extra: Any,
) -> Schema:
    """An object; ``values`` describes the values of a map keyed by names BillRun chooses."""
    schema: Schema = {"type": "object"}
    if props:
        schema["properties"] = props
    if required:
        schema["required"] = list(required)
    if values is not None:
        schema["additionalProperties"] = values
    return _with(schema, desc, extra)


def arr(desc: str, items: Schema, **extra: Any) -> Schema:
    """An array (BillRun sends a map keyed ``0``, ``1``, ...)."""
    return _with({"type": "array", "items": items}, desc, extra)
