"""Ingest URLs: BillRun signs nothing, so the URL is the credential.

The last path segment of an ingest URL is an itsdangerous-signed token naming an ``ingest_tokens``
row (tenant and source), which can be revoked. The web API reads tokens, the command line makes them.
"""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer

INGEST_PATH = "/ingest/billrun/"
_SALT = "billrun-connector.ingest-url"
MAX_CACHED_TOKEN = 200  # real tokens are under 100 characters; longer ones are checked, never kept


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def make_token(secret_key: str, token_id: str) -> str:
    """The signed path segment of an ingest URL for the ``ingest_tokens`` row *token_id*."""
    return str(_serializer(secret_key).dumps(token_id))


def read_token(secret_key: str, token: str) -> str | None:
    """The ``ingest_tokens`` row id a token names, or None when its signature does not hold.

    Checking a signature derives a key and decodes JSON on every request; BillRun posts to the
    same few URLs, so answers for short tokens are kept (revocation is checked in the database).
    """
    if len(token) <= MAX_CACHED_TOKEN:
        return _cached_token_id(secret_key, token)
    return _token_id(secret_key, token)


def _token_id(secret_key: str, token: str) -> str | None:
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


_cached_token_id = lru_cache(maxsize=256)(_token_id)


def ingest_url(base_url: str, secret_key: str, token_id: str) -> str:
    """The full ingest URL of the ``ingest_tokens`` row *token_id* under *base_url*."""
    return base_url.rstrip("/") + INGEST_PATH + make_token(secret_key, token_id)
