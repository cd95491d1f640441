"""Identifiers and secrets, all from the operating system's secure random source.

Every id is ``<prefix>_<random>`` made only of ``[A-Za-z0-9_]``: it fits BillRun's plugin routes
(``\\w+``) and the ``webhook-id`` header of Standard Webhooks.
"""

from __future__ import annotations

import base64
import re
import secrets
import string

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


def new_id(prefix: str) -> str:
    """A fresh id such as ``sub_4XbV...``."""
    return f"{prefix}_{_token()}"


def event_id() -> str:
    return new_id("evt")


def delivery_id() -> str:
    return new_id("dlv")


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
