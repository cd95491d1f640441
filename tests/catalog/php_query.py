"""A mirror of PHP's ``http_build_query`` as BillRun's webhooks plugin uses it, for round-trip tests."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def as_billrun(value: Any) -> Any:
    """Turn the connector's JSON back into BillRun's PHP values: ISO dates become {sec, usec}."""
    if isinstance(value, dict):
        return {key: as_billrun(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_billrun(item) for item in value]
    if isinstance(value, str) and _ISO_UTC.fullmatch(value):
        moment = datetime.fromisoformat(value)
        return {"sec": int(moment.timestamp()), "usec": moment.microsecond}
    return value


def _php_string(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # PHP 8 prints floats with the shortest round-trip form and drops ".0".
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _urlencode(text: str) -> str:
    """PHP ``urlencode``: RFC 1738, space as ``+``, only ``-_.`` and alphanumerics left as they are."""
    return quote_plus(text, safe="").replace("~", "%7E")


def http_build_query(data: dict[str, Any]) -> bytes:
    """Encode nested dicts and lists like PHP: brackets, true→1, false→0, nulls and empty arrays dropped."""
    pairs: list[str] = []

    def walk(name: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, (dict, list)):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                walk(f"{name}[{key}]", item)
            return
        pairs.append(f"{_urlencode(name)}={_urlencode(_php_string(value))}")

    for key, value in data.items():
        walk(str(key), value)
    return "&".join(pairs).encode("ascii")
