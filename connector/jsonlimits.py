"""Reading JSON from outside with limits: bounded nesting, strict RFC 8259 (no NaN or Infinity).

Python's parser recurses once per level and accepts ``NaN``/``Infinity``; a body nested thousands
of levels deep, or a non-finite number that no JSON consumer can carry on, must be a clear
refusal, never a server error or an invalid delivery.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32


class JsonRefused(ValueError):
    """The text is not JSON this service takes; the message says why."""


class JsonTooDeep(JsonRefused):
    """The JSON nests deeper than the limit."""


INT64 = range(-(2**63), 2**63)


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


def loads(text: str | bytes, max_depth: int = MAX_DEPTH, *, keep_unrepresentable: bool = False) -> Any:
    """Parse strict JSON nested at most *max_depth* levels; raises :class:`JsonRefused`.

    With *keep_unrepresentable* (what BillRun sent must be kept), ``NaN``, ``Infinity``, numbers
    that overflow a double and integers beyond 64 bits stay their original text instead.
    """
    options: dict[str, Any] = (
        {"parse_constant": str, "parse_float": _kept_float, "parse_int": _kept_int}
        if keep_unrepresentable
        else {"parse_constant": _non_finite}
    )
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JsonTooDeep(f"the JSON nests deeper than {max_depth} levels") from None
    except JsonRefused:
        raise
    except ValueError as exc:  # also an integer of more than 4,300 digits
        raise JsonRefused(f"not valid JSON: {exc}") from None
    if depth(value, max_depth) > max_depth:
        raise JsonTooDeep(f"the JSON nests deeper than {max_depth} levels")
    return value
