"""API key authentication.

A key is taken from ``Authorization: Bearer <key>``, an ``X-API-Key`` header or an ``access_token``
parameter (query string or form body, as BillRun's own API accepts). Only its SHA-256 hash is looked
up. An admin key sees every tenant; any other key only its own.
"""

from __future__ import annotations

from flask import request

from connector.api import context
from connector.api.errors import ApiError
from connector.services.principal import Principal
from connector.storage import tenants
from connector.storage.models import ApiKey

_PRINCIPAL = "billrun_connector.principal"  # per-request cache, in the WSGI environ


class AuthError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="billrun-connector"'})


def presented_key() -> str | None:
    """The API key in the request, if any (header first, then parameters)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    api_key = request.headers.get("X-API-Key", "").strip()
    if api_key:
        return api_key
    token = request.args.get("access_token") or (request.form.get("access_token") if request.form else None)
    return token.strip() if token and token.strip() else None


def authenticate() -> Principal:
    """The caller of this request; raises :class:`AuthError` (401) without a valid key."""
    cached = request.environ.get(_PRINCIPAL)
    if cached is not None:
        return cached
    plaintext = presented_key()
    if plaintext is None:
        raise AuthError("An API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
    # In the request's transaction, which the view goes on with: one connection per request.
    key = tenants.find_active_key(context.request_session(), plaintext)
    if key is None:
        raise AuthError("The API key is not valid (unknown or revoked)")
    principal = principal_of(key)
    request.environ[_PRINCIPAL] = principal
    return principal


def principal_of(key: ApiKey) -> Principal:
    """The caller holding *key* (found in the request's session), its use recorded at most once a minute."""
    principal = Principal(
        key_id=key.id, label=key.label, admin=key.is_admin, tenant_id=key.tenant_id, tenant_name=key.tenant.name
    )
    if tenants.use_is_stale(key):
        if not context.request_writes():  # a read-only transaction: write in a short one of its own
            with context.database().session() as writer:
                tenants.touch_key(writer, principal.key_id)
        else:  # committed with the request's own writes
            tenants.touch_key(context.request_session(), principal.key_id)
    return principal


def require_api_key() -> None:
    """``before_request`` hook of every management blueprint."""
    authenticate()


def current_principal() -> Principal:
    return authenticate()
