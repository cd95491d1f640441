"""PHP's own rules for form bodies, which BillRun's wire format follows to the byte.

BillRun builds each webhook body with ``http_build_query`` (floats printed with PHP's ``precision``
of 14 significant digits, strings by ``urlencode``), and a PHP receiver would read it back with
``parse_str``. :func:`http_build_query` and :func:`parse_str` do what PHP 8 does;
``tests/delivery/test_php_wire.py`` compares them with a real PHP, byte for byte and key for key.

What PHP keeps as bytes, JSON cannot: invalid UTF-8 becomes U+FFFD here, and every change or drop
that PHP makes silently (a field nested deeper than 64 levels, an append past the largest index,
a field without a name) is reported as a note, so that the event can say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_to_bytes

PRECISION = 14  # PHP's default `precision` ini setting, which http_build_query prints floats with
MAX_NESTING = 64  # PHP's default `max_input_nesting_level`
LONG_MAX = 2**63 - 1  # PHP_INT_MAX on 64-bit builds
MAX_NOTES = 20
_CACHED_NAME = 200  # longer field names are parsed every time, so the name cache stays small
_INT_KEY = re.compile(r"-?(?:0|[1-9][0-9]*)")
_VAR_NAME_MANGLED = re.compile(r"[ .\[]")
_C_SPACE = " \t\n\v\f\r"  # C's isspace: one of them may stand before the ] of an append

# -- writing: http_build_query ------------------------------------------------------------------


def php_float(value: float) -> str:
    """A float as PHP prints it in ``http_build_query`` (``%.14G``): ``0.3``, ``117``, ``1.0E-5``, ``1.0E+20``."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    mantissa, _, exponent = f"{value:.{PRECISION - 1}e}".partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    point = int(exponent) + 1  # where the decimal point goes, counted in digits (zend_dtoa's decpt)
    if value == 0:
        point = 1
    if point < -3 or point > PRECISION:  # exponential, always with a fraction digit (php_gcvt)
        power = point - 1
        fraction = digits[1:] or "0"
        return f"{sign}{digits[0]}.{fraction}E{'-' if power < 0 else '+'}{abs(power)}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    whole, fraction = digits[:point].ljust(point, "0"), digits[point:]
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def urlencode(text: str) -> str:
    """PHP's ``urlencode``: RFC 1738, a space as ``+``, only letters, digits and ``-_.`` kept (``~`` too is escaped)."""
    return quote_plus(text, safe="").replace("~", "%7E")


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return php_float(value)
    return str(value)


def _fields(prefix: str, suffix: str, value: dict[Any, Any] | list[Any]) -> Iterator[str]:
    items: Iterable[tuple[Any, Any]] = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        name = f"{prefix}{key if isinstance(key, int) else urlencode(str(key))}{suffix}"
        if isinstance(item, (dict, list)):
            yield from _fields(f"{name}%5B", "%5D", item)
            continue
        text = _scalar(item)
        if text is not None:
            yield f"{name}={urlencode(text)}"


def http_build_query(data: dict[str, Any]) -> str:
    """``http_build_query($data, '', '&')`` of PHP 8 for *data* read as PHP values.

    Dicts and lists are arrays (nested keys in brackets, written ``%5B``/``%5D``), ``True`` and
    ``False`` are ``1`` and ``0``, floats are printed as :func:`php_float`, ``None`` and empty arrays
    are left out.
    """
    return "&".join(_fields("", "", data))


# -- reading: parse_str -------------------------------------------------------------------------


@dataclass
class Notes:
    """What decoding changed or dropped, each kind said once, and at most :data:`MAX_NOTES` of them."""

    items: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, note: str) -> None:
        if note in self.items:
            return
        if len(self.items) < MAX_NOTES:
            self.items.append(note)
        else:
            self.dropped += 1

    def all(self) -> list[str]:
        more = [f"and {self.dropped} more notes like these"] if self.dropped else []
        return [*self.items, *more]


def _shown(text: str) -> str:
    return repr(text if len(text) <= 100 else text[:100] + "...")


def _form_bytes(raw: bytes) -> bytes:
    """PHP's ``urldecode``: ``+`` is a space, ``%XX`` a byte, any other ``%`` stays."""
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    return unquote_to_bytes(raw) if b"%" in raw else raw


def _utf8(raw: bytes, notes: Notes, what: str, of: str | None = None) -> str:
    """*raw* as text; invalid UTF-8 (PHP keeps any bytes, JSON cannot) becomes U+FFFD, with a note
    on *what* (``of`` a variable: the note is only written when needed)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        notes.add(f"{what}{f' of {of}' if of is not None else ''} {_shown(text)}: invalid UTF-8 replaced by U+FFFD")
        return text


@dataclass(frozen=True)
class FieldName:
    """How PHP reads one field name: the variable, then its keys (``None`` for ``[]``, an append)."""

    path: tuple[str | None, ...]
    too_deep: bool = False  # nested deeper than PHP allows: PHP drops the whole variable


def read_name(name: str) -> FieldName | None:
    """A decoded field name as PHP's ``php_register_variable_ex`` reads it; ``None`` when PHP ignores it.

    Leading spaces go; in the variable name (before the first ``[``) spaces and dots become ``_``;
    each ``[key]`` runs to the first ``]``, so a key may hold ``[`` (``a[DATA [5GB]]`` is ``a['DATA [5GB']``);
    ``[]`` and ``[ ]`` (one white space) append;
    text after a ``]`` that is not a ``[`` is ignored; an unclosed ``[`` right after the variable name
    turns the rest into the name (``a[b`` is ``a_b``), later it ends the keys.
    """
    name = name.lstrip(" ")
    opening = name.find("[")
    variable = (name if opening < 0 else name[:opening]).replace(" ", "_").replace(".", "_")
    if not variable:
        return None
    if opening < 0:
        return FieldName((variable,))
    path: list[str | None] = [variable]
    position = opening
    for _level in range(MAX_NESTING):
        start = position + 1
        after_space = start + 1 if name[start : start + 1] and name[start] in _C_SPACE else start
        if name.startswith("]", after_space):  # [] or [ ]: an append
            key, closing = None, after_space
        else:
            closing = name.find("]", start)
            if closing < 0:  # not a key
                if len(path) == 1:
                    path[0] = f"{variable}_{_VAR_NAME_MANGLED.sub('_', name[start:])}"
                return FieldName(tuple(path))
            key = name[start:closing]
        path.append(key)
        position = closing + 1
        if not name.startswith("[", position):
            return FieldName(tuple(path))
    return FieldName((variable,), too_deep=True)


@lru_cache(maxsize=4096)
def _cached_name(raw: bytes) -> tuple[FieldName | None, tuple[str, ...]]:
    notes = Notes()
    return _read_raw_name(raw, notes), tuple(notes.items)


def _read_raw_name(raw: bytes, notes: Notes) -> FieldName | None:
    decoded = _form_bytes(raw).split(b"\0", 1)[0]  # PHP reads a name as a C string: it ends at a NUL
    return read_name(_utf8(decoded, notes, "field name"))


def _field_name(raw: bytes, notes: Notes) -> FieldName | None:
    """The reading of a still-encoded name; BillRun repeats the same names, so short ones are cached."""
    if len(raw) > _CACHED_NAME:
        return _read_raw_name(raw, notes)
    reading, found = _cached_name(raw)
    for note in found:
        notes.add(note)
    return reading


def int_key(key: str) -> int | None:
    """The integer PHP makes of an array key (``"5"``, ``"-3"``; not ``"05"``, ``"-0"``, nor beyond 64 bits)."""
    if len(key) > 20 or not _INT_KEY.fullmatch(key) or key == "-0":
        return None
    number = int(key)
    return number if -LONG_MAX - 1 <= number <= LONG_MAX else None


class _Arrays:
    """Nested dicts filled with PHP's array rules.

    Only a body with an append (``name[]``) needs the next free index of each array (PHP's
    ``nNextFreeElement``: one past the largest integer key so far), so it is tracked only then.
    """

    def __init__(self, appends: bool, notes: Notes) -> None:
        self.root: dict[str, Any] = {}
        self._appends = appends
        self._notes = notes
        self._next: dict[int, tuple[dict[str, Any], int]] = {}  # id -> (the dict, kept alive; next index)

    def _put(self, array: dict[str, Any], key: str, value: Any) -> None:
        if self._appends and key not in array:
            number = int_key(key)
            if number is not None:
                known = self._next.get(id(array))
                if known is None or number >= known[1]:
                    self._next[id(array)] = (array, min(number + 1, LONG_MAX))
        array[key] = value

    def _append(self, array: dict[str, Any], value: Any, variable: str) -> bool:
        known = self._next.get(id(array))
        key = str(known[1]) if known is not None else "0"
        if key in array:  # past PHP_INT_MAX: PHP drops the field
            self._notes.add(f"field {_shown(variable + '[...][]')} dropped: no array index is left after {LONG_MAX}")
            return False
        self._put(array, key, value)
        return True

    def assign(self, reading: FieldName, value: Any) -> None:
        variable = reading.path[0]
        assert variable is not None
        if reading.too_deep:
            self.root.pop(variable, None)
            self._notes.add(
                f"variable {_shown(variable)} dropped: a field nests deeper than {MAX_NESTING} levels,"
                " and PHP then drops the whole variable"
            )
            return
        array, key = self.root, reading.path[0]
        for segment in reading.path[1:]:
            if key is None:
                child: dict[str, Any] = {}
                if not self._append(array, child, variable):
                    return
            else:
                existing = array.get(key)
                child = existing if isinstance(existing, dict) else {}
                if existing is not child:  # PHP replaces a scalar on the way with a new array
                    self._put(array, key, child)
            array, key = child, segment
        if key is None:
            self._append(array, value, variable)
        else:
            self._put(array, key, value)


def parse_str(body: bytes) -> tuple[dict[str, Any], list[str]]:
    """``parse_str($body, $result)`` of PHP 8 with its default nesting limit (64), without PHP's
    ``max_input_vars`` cap: the nested arrays as dicts of strings, and notes on what was changed or dropped.

    Fields are split at ``&`` (empty ones skipped) and at their first ``=``; later fields replace
    earlier ones, and a bracketed name replaces an earlier scalar of the same name, as in PHP.
    """
    fields = [raw_field.partition(b"=") for raw_field in body.split(b"&") if raw_field]
    names = b"&".join([name for name, _, _ in fields])
    layout = _cached_layout(names) if len(names) <= _CACHED_NAMES else _layout(names)
    values = _plain_values(fields) if layout is not None else None
    if layout is None or values is None:
        return _parse_fields(fields)
    return _filled(layout.tree, values), list(layout.notes)


_CACHED_NAMES = 16 * 1024  # bodies with longer names together are laid out every time, uncached


@dataclass(frozen=True)
class _Layout:
    """Where the fields of a body go, which its names alone decide: nested dicts with the index of
    a field where its value goes, and notes on what PHP drops (too deep, no index left)."""

    tree: dict[str, Any]
    notes: tuple[str, ...]


def _layout(names: bytes) -> _Layout | None:
    """The layout of the field names joined by ``&``; ``None`` when a name needs a note of its own
    (:func:`_parse_fields` writes it, in the fields' order)."""
    notes = Notes()
    raw_names = names.split(b"&")
    readings = [reading for raw in raw_names if (reading := _read_raw_name(raw, notes)) is not None]
    if notes.items or len(readings) < len(raw_names):
        return None
    tree = _arrays([(reading, index) for index, reading in enumerate(readings)], notes)
    return _Layout(tree, tuple(notes.all()))


# BillRun sends the same names for an entity again and again: their layout is made once.
_cached_layout = lru_cache(maxsize=256)(_layout)


def _plain_values(fields: list[tuple[bytes, bytes, bytes]]) -> list[str] | None:
    """The fields' values, decoded together in one pass, when that is safe; else ``None``.

    With no ``%26`` among them every ``&`` of the decoded whole is one of the joins; one value of
    invalid UTF-8 leaves the body to :func:`_parse_fields`, which notes it.
    """
    values = b"&".join([value for _, _, value in fields])
    if b"%26" in values:
        return None
    try:
        return _form_bytes(values).decode("utf-8").split("&")
    except UnicodeDecodeError:
        return None


def _filled(tree: dict[str, Any], values: list[str]) -> dict[str, Any]:
    return {key: _filled(slot, values) if isinstance(slot, dict) else values[slot] for key, slot in tree.items()}


def _parse_fields(fields: list[tuple[bytes, bytes, bytes]]) -> tuple[dict[str, Any], list[str]]:
    """:func:`parse_str` field by field, with a note for each change or drop, in the fields' order."""
    notes = Notes()
    read: list[tuple[FieldName, Any]] = []
    for raw_name, separator, raw_value in fields:
        reading = _field_name(raw_name, notes)
        if reading is None:
            raw_field = raw_name + separator + raw_value
            notes.add(
                f"field {_shown(raw_field[:100].decode('ascii', 'replace'))} dropped: PHP ignores a field without a name"
            )
            continue
        read.append((reading, _utf8(_form_bytes(raw_value), notes, "a value", reading.path[0])))
    return _arrays(read, notes), notes.all()


def _arrays(fields: list[tuple[FieldName, Any]], notes: Notes) -> dict[str, Any]:
    """The nested arrays PHP fills with *fields* (a name's reading and what goes there), in order."""
    arrays = _Arrays(any(None in reading.path for reading, _ in fields), notes)
    for reading, value in fields:
        arrays.assign(reading, value)
    return arrays.root
