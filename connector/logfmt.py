"""One log line as ``key=value`` pairs (logfmt), the format of the access and delivery-attempt logs.

Every pair can be matched with grep (``grep 'status=5'``, ``grep 'event=evt_...'``) and the lines
parsed by log tools that read logfmt. A value with a space, a quote, an ``=`` or a control
character is written as a JSON string; a missing value as ``-``.
"""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r'[^\s"=\\\x00-\x1f\x7f]+\Z')


def logfmt(**fields: object) -> str:
    """``key=value`` pairs in the order given."""
    return " ".join(f"{key}={_value(value)}" for key, value in fields.items())


def _value(value: object) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else str(value)
    return text if _PLAIN.match(text) else json.dumps(text, ensure_ascii=False)
