"""BillRun's wire format: decode what the webhooks plugin POSTs and normalise it to typed JSON.

BillRun sends ``application/x-www-form-urlencoded`` bodies built by PHP's ``http_build_query``:
nested arrays in bracket notation (``before[services][0][name]=X``), every leaf a string, lists
as numeric-keyed maps, dates as ``{sec, usec}``, nulls and empty arrays left out. Normalisation
is driven by the event type's JSON Schema, walked along the catalog's dereferenced view of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from connector import jsonlimits
from connector.catalog import Catalog, UnknownEventType, get_catalog
from connector.config import MAX_BODY_BYTES
from connector.schema_view import SchemaNode

MAX_FIELDS = 10_000
MAX_DEPTH = jsonlimits.MAX_DEPTH
MAX_CACHED_NAME = 200  # longer field names are decoded every time, so the name cache stays small

FORM_TYPE = "application/x-www-form-urlencoded"
_INTEGER = re.compile(r"[+-]?\d+")
_CANONICAL_INTEGER = re.compile(r"-?(?:0|[1-9]\d*)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
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


def _malformed(name: str) -> MalformedFieldName:
    return MalformedFieldName(
        f"field name {name[:200]!r} is malformed: empty, unbalanced brackets or text after the last bracket"
    )


def _path(name: str) -> tuple[str, ...]:
    """``a[b][]`` -> ``("a", "b", "")``: a name without brackets, then bracketed segments without brackets."""
    head, bracket, rest = name.partition("[")
    if not head or "]" in head:
        raise _malformed(name)
    if not bracket:
        return (head,)
    if not rest.endswith("]"):
        raise _malformed(name)
    segments = (head, *rest[:-1].split("]["))
    if any("[" in segment or "]" in segment for segment in segments):
        raise _malformed(name)
    if len(segments) > MAX_DEPTH:
        raise NestingTooDeep(f"field name {name[:200]!r} nests {len(segments)} levels, more than {MAX_DEPTH}")
    return segments


def _is_index(segment: str) -> bool:
    """A PHP integer key: ``0`` or digits without a leading zero."""
    return segment.isascii() and segment.isdigit() and (segment[0] != "0" or segment == "0")


class _FormTree:
    """Nested dicts built from bracketed names with PHP's rules (``name[]`` appends).

    Only a body with an append (``name[]``) needs the next free index of every map, so the
    indices are tracked only then (BillRun itself always sends explicit indices).
    """

    def __init__(self, appends: bool) -> None:
        self.root: dict[str, Any] = {}
        self._appends = appends
        # id of a dict -> (the dict, kept alive so its id is not reused; next index for ``[]``)
        self._next: dict[int, tuple[dict[str, Any], int]] = {}

    def _key(self, node: dict[str, Any], segment: str) -> str:
        if segment == "":
            following = self._next.get(id(node), (node, 0))[1]
            self._next[id(node)] = (node, following + 1)
            return str(following)
        if _is_index(segment):
            following = self._next.get(id(node), (node, 0))[1]
            self._next[id(node)] = (node, max(following, int(segment) + 1))
        return segment

    def assign(self, segments: tuple[str, ...], value: str) -> None:
        node = self.root
        key = segments[0]
        for segment in segments[1:]:
            child = node.get(key)
            if not isinstance(child, dict):  # PHP: a later bracketed name replaces an earlier scalar
                child = node[key] = {}
            node = child
            key = self._key(node, segment) if self._appends else segment
        node[key] = value


def _unquote(text: str) -> str:
    """One form-encoded name or value (``+`` is a space); invalid UTF-8 raises UnicodeDecodeError."""
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text, encoding="utf-8", errors="strict") if "%" in text else text


@lru_cache(maxsize=4096)
def _cached_field_path(raw_name: str) -> tuple[str, ...]:
    return _path(_unquote(raw_name))


def _field_path(raw_name: str) -> tuple[str, ...]:
    """The path of a still-encoded field name; BillRun repeats the same names, so short ones are cached."""
    return _cached_field_path(raw_name) if len(raw_name) <= MAX_CACHED_NAME else _path(_unquote(raw_name))


def decode_form(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Decode a PHP bracket-notation form body into nested dicts of strings.

    Numeric-keyed maps stay dicts here; :func:`normalise` turns them into lists where the
    schema says array. Later fields replace earlier ones, as in PHP. Fields are read as
    :func:`urllib.parse.parse_qsl` reads them, keeping blank values.
    """
    _check_size(body, max_bytes)
    fields = body.count(b"&") + 1 if body else 0
    if fields > MAX_FIELDS:
        raise TooManyFields(f"the body has {fields} fields, more than the limit of {MAX_FIELDS}")
    try:
        fields_read = [field.partition("=") for field in body.decode("utf-8").split("&") if field]
        pairs = [(_field_path(name), _unquote(value)) for name, _, value in fields_read]
    except UnicodeDecodeError as exc:
        raise WireFormatError(f"the body is not valid UTF-8: {exc.reason}") from exc
    tree = _FormTree(appends=any("" in path for path, _ in pairs))
    for path, value in pairs:
        tree.assign(path, value)
    return tree.root


def decode_json(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Decode a JSON delivery body: an object, nested at most :data:`MAX_DEPTH` levels."""
    _check_size(body, max_bytes)
    try:
        value = jsonlimits.loads(body, MAX_DEPTH, keep_unrepresentable=True)
    except jsonlimits.JsonTooDeep as exc:
        raise NestingTooDeep(f"the JSON body nests deeper than {MAX_DEPTH} levels") from exc
    except jsonlimits.JsonRefused as exc:
        raise WireFormatError(f"the JSON body is refused: {exc}") from exc
    if not isinstance(value, dict):
        raise WireFormatError("the JSON body must be an object")
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
    if value and all(isinstance(key, str) and _is_index(key) for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return None


def _string(value: str, kinds: tuple[str, ...]) -> Any:
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
        if "sec" in value and set(value) <= {"sec", "usec"}:
            return _date(value)
        if value and set(value) == {str(index) for index in range(len(value))}:
            return [_generic(value[str(index)]) for index in range(len(value))]
        return {key: _generic(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_generic(item) for item in value]
    return value


def _walk(node: SchemaNode, value: Any) -> Any:
    """*value* typed by *node*; members and items the schema says nothing about get :func:`_generic`."""
    if node.date_time:
        value = _date(value)
    if isinstance(value, str):
        return _string(value, node.types)
    if isinstance(value, dict) and "array" in node.types:
        value = _as_list(value) or value
    if isinstance(value, list):
        items = node.items
        return [_walk(items, item) if items is not None else _generic(item) for item in value]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            member = node.member(key)
            result[key] = _walk(member, item) if member is not None else _generic(item)
        return result
    return value


def normalise(type_name: str, raw: dict[str, Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """Type a decoded payload (without ``module``/``action``) by the schema of *type_name*.

    Integers, numbers and booleans are coerced from strings, numeric-keyed maps become lists
    where the schema says array, dates become ISO 8601 UTC. Unknown fields pass unchanged. A type the
    catalog does not know is typed by its module's schema (``<module>.*``), else by ``*``'s.
    """
    catalog = catalog or get_catalog()
    try:
        schema = catalog.data_schema(type_name)
    except UnknownEventType:
        raise UnknownDeliveryType(f"{type_name!r} is not a BillRun event name") from None
    return _walk(schema, raw)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_delivery(
    body: bytes, content_type: str, *, catalog: Catalog | None = None, max_bytes: int = MAX_BODY_BYTES
) -> tuple[str, dict[str, Any]]:
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
    # A pair the catalog does not know is still a BillRun event: kept as <module>.<action>.
    type_name = catalog.type_for(module, action) or f"{module}.{action}"
    if catalog.get(type_name) is not None and not catalog.knows(type_name):  # a group or a wildcard
        raise UnknownDeliveryType(f"{type_name!r} names a group of events, not one BillRun sends")
    if catalog.split(type_name) is None:
        raise UnknownDeliveryType(
            f"module {module[:100]!r} and action {action[:100]!r} do not name a BillRun event "
            "(a module has no dot, whitespace or control characters; an action has 1 to 255 characters)"
        )
    return type_name, normalise(type_name, raw, catalog)
