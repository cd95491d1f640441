"""Standard Webhooks v1 signatures (HMAC-SHA256 over ``"<id>.<timestamp>.<body>"``).

The body given here must be exactly the bytes that go on the wire: receivers verify
the raw body, so nothing may re-serialise it between signing and sending.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"


class InvalidSecretError(ValueError):
    """A signing secret that is not ``whsec_`` + base64 of at least one byte."""


def decode_secret(secret: str) -> bytes:
    """The raw HMAC key of a ``whsec_<base64>`` secret (the prefix is optional)."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True) if encoded else b""
    except binascii.Error as exc:
        raise InvalidSecretError("signing secret is not valid base64") from exc
    if not key:
        raise InvalidSecretError("signing secret is empty")
    return key


class Signer:
    """Signs messages with one or more secrets (several while a rotation's grace period runs).

    Keys are decoded once, so signing costs one HMAC per secret.
    """

    __slots__ = ("_keys",)

    def __init__(self, secrets: Iterable[str]) -> None:
        self._keys = tuple(decode_secret(secret) for secret in secrets)
        if not self._keys:
            raise InvalidSecretError("at least one signing secret is needed")

    def signature(self, msg_id: str, timestamp: int, body: bytes) -> str:
        """The ``webhook-signature`` header value: space-separated ``v1,<base64>`` items."""
        signed = b"%s.%d.%s" % (msg_id.encode(), timestamp, body)
        return " ".join("v1," + base64.b64encode(hmac.digest(key, signed, "sha256")).decode() for key in self._keys)

    def headers(self, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The three Standard Webhooks headers for one attempt."""
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": self.signature(msg_id, timestamp, body),
        }
