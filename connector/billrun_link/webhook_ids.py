"""The webhook ids the connector chooses for BillRun.

BillRun has no list endpoint, so the connector names its webhooks itself and records each id. An id
is ``<connection prefix>_<24 hex of SHA-256 of module and action>``: only ``[A-Za-z0-9_]`` (the
plugin's route truncates an id at any other character), the same for the same pair on every retry
(a retried create meets ``duplicate id`` instead of making a second webhook), and distinct between
connections (the prefix is random per connection).
"""

from __future__ import annotations

import hashlib
import secrets
import string

PREFIX_HEAD = "brc"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_RANDOM = 8
_HASH_HEX = 24


def new_prefix() -> str:
    """A fresh connection prefix such as ``brc_k3x9a0qe``."""
    return PREFIX_HEAD + "_" + "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_RANDOM))


def webhook_id(prefix: str, module: str, action: str) -> str:
    digest = hashlib.sha256(f"{module}\0{action}".encode()).hexdigest()[:_HASH_HEX]
    return f"{prefix}_{digest}"
