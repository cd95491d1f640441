"""Identifiers and secrets, all from the operating system's secure random source.

Every id is ``<prefix>_`` and 22 characters of ``[A-Za-z0-9]``: it fits BillRun's plugin routes
(``\\w+``) and the ``webhook-id`` header of Standard Webhooks. Events and deliveries, written by
the thousand, have ids that start with their creation time (as KSUIDs and ULIDs do): new rows go
to the end of their primary-key index rather than to a random page of it, which keeps each commit,
and the purge of old rows, to a few pages.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
import time

_ALPHABET = (string.ascii_letters + string.digits).encode("ascii")
_RANDOM_LENGTH = 22  # 22 base-62 characters carry about 131 bits
ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,64}$")
# Random bytes map to characters by their value modulo 62. Bytes from 248 (4 x 62) up are dropped,
# so that every character stays equally likely (no modulo bias).
_TO_ALPHABET = bytes(_ALPHABET[value % len(_ALPHABET)] for value in range(256))
_DROPPED = bytes(range(256 - 256 % len(_ALPHABET), 256))


def _token(length: int = _RANDOM_LENGTH) -> str:
    """*length* characters of ``[A-Za-z0-9]``, uniformly drawn: one random read and a table lookup."""
    token = b""
    while len(token) < length:
        token += secrets.token_bytes(length + 4).translate(_TO_ALPHABET, _DROPPED)
    return token[:length].decode("ascii")


# The time part: milliseconds since 1970 in 8 base-62 digits (enough until the year 8888), in an
# alphabet in ASCII order, so that ids sort by time; then 14 random characters (about 83 bits).
_ORDERED = string.digits + string.ascii_uppercase + string.ascii_lowercase
_TIME_LENGTH = 8


def _time_part(milliseconds: int) -> str:
    digits = []
    for _ in range(_TIME_LENGTH):
        milliseconds, digit = divmod(milliseconds, 62)
        digits.append(_ORDERED[digit])
    return "".join(reversed(digits))


def ordered_id(prefix: str, milliseconds: int | None = None) -> str:
    """A fresh id whose first characters are its creation time, such as ``evt_0Z3rTm1c4XbV...``."""
    now = time.time_ns() // 1_000_000 if milliseconds is None else milliseconds
    return f"{prefix}_{_time_part(now)}{_token(_RANDOM_LENGTH - _TIME_LENGTH)}"


def new_id(prefix: str) -> str:
    """A fresh id such as ``sub_4XbV...``."""
    return f"{prefix}_{_token()}"


def event_id() -> str:
    return ordered_id("evt")


def delivery_id() -> str:
    return ordered_id("dlv")


def subscription_id() -> str:
    return new_id("sub")


def api_key_id() -> str:
    return new_id("key")


def ingest_token_id() -> str:
    return new_id("ing")


def api_key_secret() -> str:
    """The API key itself, shown once: ``brc_`` and 40 random characters."""
    return f"brc_{_token(40)}"


def signing_secret() -> str:
    """A per-subscription Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def is_valid_id(value: str) -> bool:
    """Whether *value* may be used as a client-given id (``[A-Za-z0-9_]``, 1 to 64 characters)."""
    return bool(ID_PATTERN.fullmatch(value))
