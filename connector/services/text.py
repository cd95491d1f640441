"""Free text that people name things with (tenants, key labels, ingest URL sources)."""

from __future__ import annotations

import re

from connector.services.errors import Invalid

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls and DEL, but tab and line ends


def plain(value: str, field: str, max_length: int, *, required: bool = False) -> str:
    """*value* stripped, if it is at most *max_length* characters without control characters."""
    cleaned = value.strip()
    problem = None
    if required and not cleaned:
        problem = "is required"
    elif len(cleaned) > max_length:
        problem = f"must be at most {max_length} characters"
    elif CONTROL.search(cleaned) or "\n" in cleaned or "\r" in cleaned:
        problem = "must be one line without control characters"
    if problem is not None:
        raise Invalid(f"the {field.replace('_', ' ')} {problem}", {field: [problem]})
    return cleaned
