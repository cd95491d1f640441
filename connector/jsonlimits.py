"""Reading JSON from outside with limits: bounded nesting, strict RFC 8259 (no NaN or Infinity).

Python's parser recurses once per level and accepts ``NaN``/``Infinity``; a body nested thousands
of levels deep, or a non-finite number that no JSON consumer can carry on, must be a clear
refusal, never a server error or an invalid delivery. A lone surrogate escape (``"\\ud800"``) is
valid JSON syntax but no UTF-8 text: it becomes U+FFFD, so that whatever was taken can be signed
and delivered.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32


class JsonRefused(ValueError):
    """The text is not JSON this service takes; the message says why."""


class JsonTooDeep(JsonRefused):
    """The JSON nests deeper than the limit."""


INT64 = range(-(2**63), 2**63)
# Where a lone surrogate can come from: an escape, or (in text given as str) the character itself.
_SURROGATE_SOURCE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _non_finite(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number (RFC 8259); send it as a string")


def _kept_float(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text


def _kept_int(text: str) -> int | str:
    """An integer within 64 bits, else its text (no JSON consumer carries more, nor Python's parser
    more than 4,300 digits)."""
    if len(text) > 20:
        return text
    value = int(text)
    return value if value in INT64 else text


def depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping as soon as it passes *limit* (no recursion)."""
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


def _without_lone_surrogates(value: Any) -> tuple[Any, int]:
    """*value* with every lone surrogate (in keys too) replaced by U+FFFD, and how many were replaced.

    The parser joins escaped surrogate pairs into one character, so any surrogate left is lone.
    """
    replaced = 0

    def clean(text: str) -> str:
        nonlocal replaced
        fixed, count = _SURROGATE.subn("\ufffd", text)
        replaced += count
        return fixed

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return clean(node)
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, dict):
            return {clean(key): walk(item) for key, item in node.items()}
        return node

    return walk(value), replaced


def loads_repairing(
    text: str | bytes, max_depth: int = MAX_DEPTH, *, keep_unrepresentable: bool = False
) -> tuple[Any, int]:
    """Parse strict JSON nested at most *max_depth* levels; raises :class:`JsonRefused`.

    Returns the value and how many lone surrogates were replaced by U+FFFD. With
    *keep_unrepresentable* (what BillRun sent must be kept), ``NaN``, ``Infinity``, numbers that
    overflow a double and integers beyond 64 bits stay their original text instead.
    """
    options: dict[str, Any] = (
        {"parse_constant": str, "parse_float": _kept_float, "parse_int": _kept_int}
        if keep_unrepresentable
        else {"parse_constant": _non_finite}
    )
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    try:
        if isinstance(text, bytes):
            text = text.decode(json.detect_encoding(text))  # strict: invalid UTF-8 is no JSON text
        value = json.loads(text, **options)
    except RecursionError:
        raise JsonTooDeep(f"the JSON nests deeper than {max_depth} levels") from None
    except JsonRefused:
        raise
    except ValueError as exc:  # also invalid UTF-8 and an integer of more than 4,300 digits
        raise JsonRefused(f"not valid JSON: {exc}") from None
    if depth(value, max_depth) > max_depth:
        raise JsonTooDeep(f"the JSON nests deeper than {max_depth} levels")
    if _SURROGATE_SOURCE.search(raw):
        return _without_lone_surrogates(value)
    return value, 0


def loads(text: str | bytes, max_depth: int = MAX_DEPTH, *, keep_unrepresentable: bool = False) -> Any:
    """:func:`loads_repairing` without the count: the parsed value, lone surrogates replaced."""
    return loads_repairing(text, max_depth, keep_unrepresentable=keep_unrepresentable)[0]
