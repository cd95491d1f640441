"""BillRun's wire format: decode what the webhooks plugin POSTs and normalise it to typed JSON.

BillRun sends ``application/x-www-form-urlencoded`` bodies built by PHP's ``http_build_query``:
nested arrays in bracket notation (``before[services][0][name]=X``), every leaf a string, lists
as numeric-keyed maps, dates as ``{sec, usec}``, nulls and empty arrays left out. They are decoded
exactly as PHP's ``parse_str`` decodes them (:mod:`connector.php`). Normalisation is driven by the
event type's JSON Schema, walked along the catalog's dereferenced view of it.

Nothing BillRun could send is refused for its content: what JSON cannot carry stays text or becomes
U+FFFD, and what had to change is said in the delivery's notes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from connector import jsonlimits, php
from connector.catalog import MAX_ACTION, Catalog, UnknownEventType, get_catalog, well_formed_module
from connector.config import MAX_BODY_BYTES
from connector.schema_view import SchemaNode

MAX_DEPTH = jsonlimits.MAX_DEPTH  # of JSON bodies; form bodies nest as deep as PHP allows (php.MAX_NESTING)

FORM_TYPE = "application/x-www-form-urlencoded"
_INTEGER = re.compile(r"[+-]?\d+")
_CANONICAL_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_BOOLEANS = {"1": True, "0": False, "true": True, "false": False}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WireFormatError(ValueError):
    """A delivery body the connector cannot read (the ingest endpoint answers 400)."""


class BodyTooLarge(WireFormatError):
    """The body is over the size limit (413)."""


class NestingTooDeep(WireFormatError):
    """A JSON value nests deeper than allowed."""


class UnsupportedContentType(WireFormatError):
    """Neither a form body nor JSON (415)."""


class UnknownDeliveryType(WireFormatError):
    """The body names no BillRun module and action (400)."""


@dataclass(frozen=True)
class Delivery:
    """One BillRun delivery, read: its type, its normalised payload, and what reading it had to change.

    *notes* say what the body held that JSON cannot carry or PHP would drop (invalid UTF-8, a field
    nested too deep, an action that is not a usable type name); the event is kept and marked with them.
    """

    type: str
    data: dict[str, Any]
    notes: tuple[str, ...] = ()


# -- decoding ------------------------------------------------------------------------------------


def _check_size(body: bytes, max_bytes: int) -> None:
    if len(body) > max_bytes:
        raise BodyTooLarge(f"the body has {len(body)} bytes, more than the limit of {max_bytes}")


def decode_form(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> tuple[dict[str, Any], list[str]]:
    """Decode a PHP bracket-notation form body exactly as PHP's ``parse_str`` does: nested dicts of
    strings, and notes on what had to change (see :func:`connector.php.parse_str`).

    Numeric-keyed maps stay dicts here; :func:`normalise` turns them into lists.
    """
    _check_size(body, max_bytes)
    return php.parse_str(body)


def decode_json(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> tuple[dict[str, Any], list[str]]:
    """Decode a JSON delivery body: an object, nested at most :data:`MAX_DEPTH` levels; numbers JSON
    consumers cannot carry are kept as their text, lone surrogates become U+FFFD (with a note)."""
    _check_size(body, max_bytes)
    try:
        value, repaired = jsonlimits.loads_repairing(body, MAX_DEPTH, keep_unrepresentable=True)
    except jsonlimits.JsonTooDeep as exc:
        raise NestingTooDeep(f"the JSON body nests deeper than {MAX_DEPTH} levels") from exc
    except jsonlimits.JsonRefused as exc:
        raise WireFormatError(f"the JSON body is refused: {exc}") from exc
    if not isinstance(value, dict):
        raise WireFormatError("the JSON body must be an object")
    notes = [f"{repaired} lone surrogates (\\ud800 to \\udfff) replaced by U+FFFD"] if repaired else []
    return value, notes


# -- normalisation -------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``; microseconds only when there are any."""
    return moment.astimezone(UTC).isoformat()[:-6] + "Z"  # drops "+00:00"


@lru_cache(maxsize=4096)
def _mongo_date(sec: Any, usec: Any) -> str:
    """A ``{sec, usec}`` date in ISO 8601 UTC; cached, as one body repeats its dates (before and after)."""
    moment = datetime.fromtimestamp(int(sec), UTC)
    micros = int(usec)
    return _iso(moment + timedelta(microseconds=micros) if micros else moment)


def _date(value: Any) -> Any:
    """``{sec, usec}`` or an ISO 8601 string with an offset -> ISO 8601 UTC; anything else unchanged."""
    try:
        if isinstance(value, dict) and _is_date(value):
            return _mongo_date(value["sec"], value.get("usec", 0))
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            return _iso(moment) if moment.tzinfo is not None else value
    except (ValueError, TypeError, OverflowError, OSError):
        pass
    return value


def _int64(text: str) -> int | None:
    """The integer *text* writes, when a signed 64-bit integer holds it (JSON consumers carry no more)."""
    if len(text) > 20:  # a sign and 19 digits; also keeps clear of Python's 4,300-digit limit
        return None
    number = int(text)
    return number if number in jsonlimits.INT64 else None


def _scalar(text: str, kind: str, strict: bool) -> tuple[bool, Any]:
    """Coerce a wire string to *kind*; *strict* (the schema also allows strings) needs a canonical form.

    A number JSON cannot carry (``1e999``, ``NaN``, ``INF``, an integer beyond 64 bits) stays its text.
    """
    if kind == "integer" and (_CANONICAL_INTEGER if strict else _INTEGER).fullmatch(text):
        integer = _int64(text)
        return (True, integer) if integer is not None else (False, text)
    if kind == "number" and _NUMBER.fullmatch(text):
        number: int | float | None = _int64(text) if _INTEGER.fullmatch(text) else float(text)
        if number is None or not math.isfinite(number):
            return False, text
        canonical = (str(number),) if isinstance(number, int) else (repr(number), php.php_float(number))
        if not strict or text in canonical:
            return True, number
    if kind == "boolean":
        lowered = text.lower()
        if lowered in _BOOLEANS and not (strict and lowered in ("1", "0")):
            return True, _BOOLEANS[lowered]
    return False, text


_STRING_ONLY = ("string",)


def _is_index(key: str) -> bool:
    """A list index as PHP writes one: a non-negative integer key (``0``, ``12``; not ``01``)."""
    number = php.int_key(key)
    return number is not None and number >= 0


def _as_list(value: dict[str, Any]) -> list[Any] | None:
    if value and all(isinstance(key, str) and _is_index(key) for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return None


def _is_date(value: dict[str, Any]) -> bool:
    """A Mongo date as PHP form-encodes it: ``{sec, usec}``."""
    return "sec" in value and set(value) <= {"sec", "usec"}


def _string(value: str, kinds: tuple[str, ...]) -> Any:
    if kinds == _STRING_ONLY:  # most fields: nothing to coerce
        return value
    strict = "string" in kinds
    for kind in kinds:
        converted, result = _scalar(value, kind, strict)
        if converted:
            return result
    return value


def _generic(value: Any) -> Any:
    """What the schema says nothing about: a ``{sec, usec}`` date becomes ISO 8601 UTC, a map whose keys
    are exactly ``0..n-1`` becomes a list (PHP's http_build_query writes lists so), scalars stay strings."""
    if isinstance(value, dict):
        if _is_date(value):
            return _date(value)
        if value and set(value) == {str(index) for index in range(len(value))}:
            return [_generic(value[str(index)]) for index in range(len(value))]
        return {key: _generic(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_generic(item) for item in value]
    return value


def _walk(node: SchemaNode, value: Any) -> Any:
    """*value* typed by *node*; members and items the schema says nothing about get :func:`_generic`.

    A ``{sec, usec}`` date becomes ISO 8601 UTC wherever it is, unless the schema wants an object there.
    """
    if isinstance(value, str):
        return _string(_date(value) if node.date_time else value, node.types)
    if isinstance(value, dict):
        if node.date_time or ("object" not in node.types and _is_date(value)):
            value = _date(value)
            if isinstance(value, str):
                return _string(value, node.types)
        if "array" in node.types:
            value = _as_list(value) or value
    if isinstance(value, list):
        items = node.items
        return [_walk(items, item) if items is not None else _generic(item) for item in value]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            child = node.member(key)
            if child is None:
                result[key] = _generic(item)
            elif isinstance(item, str) and child.keeps_strings:  # most members: no call needed
                result[key] = item
            else:
                result[key] = _walk(child, item)
        return result
    return value


def normalise(type_name: str, raw: dict[str, Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """Type a decoded payload (without ``module``/``action``) by the schema of *type_name*.

    Integers, numbers and booleans are coerced from strings, numeric-keyed maps become lists
    where the schema says array, dates become ISO 8601 UTC. Unknown fields are normalised generically.
    A type the catalog does not know is typed by its module's schema (``<module>.*``), else by ``*``'s.
    """
    catalog = catalog or get_catalog()
    try:
        schema = catalog.data_schema(type_name)
    except UnknownEventType:
        raise UnknownDeliveryType(f"{type_name!r} is not a BillRun event name") from None
    return _walk(schema, raw)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _usable_action(action: str, notes: list[str]) -> str:
    """*action* as a type name can carry it: control characters become U+FFFD and only the first
    :data:`MAX_ACTION` characters are kept (a collection step name is free text), with a note."""
    usable = _CONTROL.sub("\ufffd", action)
    if usable != action:
        notes.append(f"$.type: control characters of the action {action[:300]!r} replaced by U+FFFD")
    if len(usable) > MAX_ACTION:
        notes.append(
            f"$.type: the action has {len(usable)} characters; its first {MAX_ACTION} name the type: {action!r}"
        )
        usable = usable[:MAX_ACTION]
    return usable


def parse_delivery(
    body: bytes, content_type: str, *, catalog: Catalog | None = None, max_bytes: int = MAX_BODY_BYTES
) -> Delivery:
    """Read one BillRun delivery (form or JSON ``{"module", "action", ...}``): its type, normalised data and notes.

    Any body with a BillRun module name and a non-empty action is a delivery, whatever the action
    (a custom collection step is free text): a pair the catalog does not know is ``<module>.<action>``.
    """
    media = _media_type(content_type or "")
    if media == FORM_TYPE:
        raw, found = decode_form(body, max_bytes=max_bytes)
    elif media == "application/json" or media.endswith("+json"):
        raw, found = decode_json(body, max_bytes=max_bytes)
    elif not media:
        looks_json = body.lstrip()[:1] == b"{"
        raw, found = decode_json(body, max_bytes=max_bytes) if looks_json else decode_form(body, max_bytes=max_bytes)
    else:
        raise UnsupportedContentType(f"unsupported content type {media!r}: send {FORM_TYPE} or application/json")
    catalog = catalog or get_catalog()
    module, action = raw.pop("module", None), raw.pop("action", None)
    if not isinstance(module, str) or not isinstance(action, str) or not module or not action:
        raise UnknownDeliveryType("the body must name the BillRun module and action (fields module and action)")
    if not well_formed_module(module):
        raise UnknownDeliveryType(
            f"module {module[:100]!r} is not a BillRun module name (1 to 100 characters without a dot,"
            " white space or control characters)"
        )
    notes = [f"body: {note}" for note in found]
    action = _usable_action(action, notes)
    type_name = catalog.type_for(module, action) or f"{module}.{action}"
    return Delivery(type_name, normalise(type_name, raw, catalog), tuple(notes))
