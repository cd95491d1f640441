"""The OAuth2 client secret at rest: Fernet (AES-128-CBC + HMAC-SHA256), keyed from the connector's
secret key (``BILLRUN_CONNECTOR_SECRET_KEY``, or the generated one beside the SQLite file) by HKDF.

Changing the secret key makes stored client secrets unreadable: connect again to store them anew.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"billrun-connector billrun client secret"


class UnreadableSecret(Exception):
    """The stored client secret was encrypted under another secret key."""


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise UnreadableSecret("the connector has no secret key")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(secret_key: str, ciphertext: str) -> str:
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise UnreadableSecret(
            "the stored BillRun client secret cannot be decrypted with this secret key; "
            "run `billrun-connector billrun connect` again"
        ) from None
