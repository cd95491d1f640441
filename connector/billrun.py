"""BillRun's wire format: decode what the webhooks plugin POSTs and normalise it to typed JSON.

BillRun sends ``application/x-www-form-urlencoded`` bodies built by PHP's ``http_build_query``:
nested arrays in bracket notation (``before[services][0][name]=X``), every leaf a string, lists
as numeric-keyed maps, dates as ``{sec, usec}``, nulls and empty arrays left out. Normalisation
is driven by the event type's JSON Schema, walked through the catalog's registry.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from connector.catalog import Catalog, get_catalog

if TYPE_CHECKING:
    from referencing._core import Resolver

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_FIELDS = 10_000
MAX_DEPTH = 32

FORM_TYPE = "application/x-www-form-urlencoded"
_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"[+-]?\d+")
_CANONICAL_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INDEX = re.compile(r"0|[1-9]\d*")
_BOOLEANS = {"1": True, "0": False, "true": True, "false": False}


class WireFormatError(ValueError):
    """A delivery body the connector cannot read (the ingest endpoint answers 400)."""


class BodyTooLarge(WireFormatError):
    """The body is over the size limit (413)."""


class TooManyFields(WireFormatError):
    """The form body has more fields than allowed."""


class NestingTooDeep(WireFormatError):
    """A field name or a JSON value nests deeper than allowed."""


class MalformedFieldName(WireFormatError):
    """A form field name has unbalanced brackets or text after its last bracket."""


class UnsupportedContentType(WireFormatError):
    """Neither a form body nor JSON (415)."""


class UnknownDeliveryType(WireFormatError):
    """The body names no known BillRun module and action (422)."""


# -- decoding ------------------------------------------------------------------------------------


def _check_size(body: bytes, max_bytes: int) -> None:
    if len(body) > max_bytes:
        raise BodyTooLarge(f"the body has {len(body)} bytes, more than the limit of {max_bytes}")


def _path(name: str) -> list[str]:
    match = _KEY.fullmatch(name)
    if match is None:
        raise MalformedFieldName(f"field name {name[:200]!r} is malformed: empty, unbalanced brackets"
                                 " or text after the last bracket")
    segments = [match.group(1), *_SEGMENT.findall(match.group(2))]
    if len(segments) > MAX_DEPTH:
        raise NestingTooDeep(f"field name {name[:200]!r} nests {len(segments)} levels, more than {MAX_DEPTH}")
    return segments


class _FormTree:
    """Nested dicts built from bracketed names with PHP's rules (``name[]`` appends)."""

    def __init__(self) -> None:
        self.root: dict[str, Any] = {}
        # id of a dict -> (the dict, kept alive so its id is not reused; next index for ``[]``)
        self._next: dict[int, tuple[dict[str, Any], int]] = {}

    def _key(self, node: dict[str, Any], segment: str) -> str:
        following = self._next.get(id(node), (node, 0))[1]
        if segment == "":
            segment = str(following)
        if _INDEX.fullmatch(segment):
            self._next[id(node)] = (node, max(following, int(segment) + 1))
        return segment

    def assign(self, segments: list[str], value: str) -> None:
        node = self.root
        *parents, last = segments
        for position, segment in enumerate(parents):
            key = self._key(node, segment) if position else segment
            child = node.get(key)
            if not isinstance(child, dict):  # PHP: a later bracketed name replaces an earlier scalar
                child = node[key] = {}
            node = child
        node[self._key(node, last) if parents else last] = value


def decode_form(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Decode a PHP bracket-notation form body into nested dicts of strings.

    Numeric-keyed maps stay dicts here; :func:`normalise` turns them into lists where the
    schema says array. Later fields replace earlier ones, as in PHP.
    """
    _check_size(body, max_bytes)
    fields = body.count(b"&") + 1 if body else 0
    if fields > MAX_FIELDS:
        raise TooManyFields(f"the body has {fields} fields, more than the limit of {MAX_FIELDS}")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise WireFormatError(f"the body is not valid UTF-8: {exc.reason}") from exc
    tree = _FormTree()
    for name, value in pairs:
        tree.assign(_path(name), value)
    return tree.root


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping as soon as it passes *limit*."""
    stack = [(value, 0)]
    deepest = 0
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            break
        if isinstance(node, dict):
            stack.extend((child, level + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, level + 1) for child in node)
    return deepest


def decode_json(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Decode a JSON delivery body: an object, nested at most :data:`MAX_DEPTH` levels."""
    _check_size(body, max_bytes)
    try:
        value = json.loads(body)
    except RecursionError as exc:
        raise NestingTooDeep(f"the JSON body nests deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:
        raise WireFormatError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise WireFormatError("the JSON body must be an object")
    if _depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise NestingTooDeep(f"the JSON body nests deeper than {MAX_DEPTH} levels")
    return value


# -- normalisation -------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond:06d}Z" if moment.microsecond else f"{text}Z"


def _date(value: Any) -> Any:
    """``{sec, usec}`` or an ISO 8601 string with an offset -> ISO 8601 UTC; anything else unchanged."""
    try:
        if isinstance(value, dict) and "sec" in value and set(value) <= {"sec", "usec"}:
            seconds, micros = int(value["sec"]), int(value.get("usec", 0))
            return _iso(datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=micros))
        if isinstance(value, str):
            moment = datetime.fromisoformat(value)
            return _iso(moment) if moment.tzinfo is not None else value
    except (ValueError, TypeError, OverflowError, OSError):
        pass
    return value


def _scalar(text: str, kind: str, strict: bool) -> tuple[bool, Any]:
    """Coerce a wire string to *kind*; *strict* (the schema also allows strings) needs a canonical form."""
    if kind == "integer" and (_CANONICAL_INTEGER if strict else _INTEGER).fullmatch(text):
        return True, int(text)
    if kind == "number" and _NUMBER.fullmatch(text):
        if _INTEGER.fullmatch(text):
            number: int | float = int(text)
        else:
            number = float(text)
        if not strict or str(number) == text:
            return True, number
    if kind == "boolean":
        lowered = text.lower()
        if lowered in _BOOLEANS and not (strict and lowered in ("1", "0")):
            return True, _BOOLEANS[lowered]
    return False, text


def _as_list(value: dict[str, Any]) -> list[Any] | None:
    if value and all(isinstance(key, str) and _INDEX.fullmatch(key) for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return None


class _Normaliser:
    """Walks a value and its schema together (``$ref`` through the catalog registry)."""

    def walk(self, schema: Any, resolver: Resolver[Any], value: Any) -> Any:
        if not isinstance(schema, dict):
            return value
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            value = self.walk(resolved.contents, resolved.resolver, value)
        for part in schema.get("allOf", ()):
            value = self.walk(part, resolver, value)
        declared = schema.get("type")
        kinds = [declared] if isinstance(declared, str) else list(declared or ())
        if schema.get("format") == "date-time":
            value = _date(value)
        if isinstance(value, str):
            return self._string(value, kinds)
        if isinstance(value, dict) and "array" in kinds:
            value = _as_list(value) or value
        if isinstance(value, list) and "items" in schema:
            return [self.walk(schema["items"], resolver, item) for item in value]
        if isinstance(value, dict):
            return self._object(schema, resolver, value)
        return value

    @staticmethod
    def _string(value: str, kinds: list[str]) -> Any:
        strict = "string" in kinds
        for kind in kinds:
            converted, result = _scalar(value, kind, strict)
            if converted:
                return result
        return value

    def _object(self, schema: dict[str, Any], resolver: Resolver[Any], value: dict[str, Any]) -> dict[str, Any]:
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        result = {}
        for key, item in value.items():
            if key in properties:
                result[key] = self.walk(properties[key], resolver, item)
            elif isinstance(extra, dict):
                result[key] = self.walk(extra, resolver, item)
            else:
                result[key] = item
        return result


def normalise(type_name: str, raw: dict[str, Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """Type a decoded payload (without ``module``/``action``) by the schema of *type_name*.

    Integers, numbers and booleans are coerced from strings, numeric-keyed maps become lists
    where the schema says array, dates become ISO 8601 UTC. Unknown fields pass unchanged.
    """
    catalog = catalog or get_catalog()
    if catalog.get(type_name) is None:
        raise UnknownDeliveryType(f"unknown event type {type_name!r}")
    resolver = catalog.resolver(type_name)
    data = resolver.lookup(f"{catalog.schema_uri(type_name)}#/properties/data")
    return _Normaliser().walk(data.contents, data.resolver, raw)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_delivery(body: bytes, content_type: str, *, catalog: Catalog | None = None,
                   max_bytes: int = MAX_BODY_BYTES) -> tuple[str, dict[str, Any]]:
    """Read one BillRun delivery (form or JSON ``{"module", "action", ...}``): its type and normalised data."""
    media = _media_type(content_type or "")
    if media == FORM_TYPE:
        raw = decode_form(body, max_bytes=max_bytes)
    elif media == "application/json" or media.endswith("+json"):
        raw = decode_json(body, max_bytes=max_bytes)
    elif not media:
        looks_json = body.lstrip()[:1] == b"{"
        raw = decode_json(body, max_bytes=max_bytes) if looks_json else decode_form(body, max_bytes=max_bytes)
    else:
        raise UnsupportedContentType(f"unsupported content type {media!r}: send {FORM_TYPE} or application/json")
    catalog = catalog or get_catalog()
    module, action = raw.pop("module", None), raw.pop("action", None)
    if not isinstance(module, str) or not isinstance(action, str) or not module or not action:
        raise UnknownDeliveryType("the body must name the BillRun module and action (fields module and action)")
    type_name = catalog.type_for(module, action)
    if type_name is None or not catalog.deliverable(type_name):
        raise UnknownDeliveryType(f"unknown BillRun event: module {module[:100]!r}, action {action[:100]!r}")
    return type_name, normalise(type_name, raw, catalog)
