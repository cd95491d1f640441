"""Who is signed in to the console: the API key a session names, checked on every request.

The session keeps the key's id, when it signed in and, for an admin key, the tenant it works in.
A revoked key ends its sessions at their next request; a session ends after twelve hours.
"""

from __future__ import annotations

import time

from flask import request, session

from connector.api import context
from connector.api.auth import principal_of
from connector.console.security import SESSION_LIFETIME
from connector.services import tenants as tenant_service
from connector.services.errors import NotFound
from connector.services.principal import Principal
from connector.storage import tenants
from connector.storage.models import ApiKey

KEY_ID = "key_id"
SIGNED_IN_AT = "signed_in_at"
TENANT_ID = "tenant_id"
_PRINCIPAL = "billrun_connector.console_principal"  # per-request cache, in the WSGI environ


class SignInRequired(Exception):
    """No session, or one that ended; *reason* says why, for the sign-in page."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def sign_in(key: ApiKey) -> None:
    """Start a fresh session for *key* (whatever the old one held is dropped)."""
    session.clear()
    session.permanent = True
    session[KEY_ID] = key.id
    session[SIGNED_IN_AT] = int(time.time())


def sign_out() -> None:
    session.clear()


def current() -> Principal:
    """The signed-in caller (for an admin key, working in the tenant it switched to)."""
    cached: Principal | None = request.environ.get(_PRINCIPAL)
    if cached is not None:
        return cached
    key_id = session.get(KEY_ID)
    if not isinstance(key_id, str):
        raise SignInRequired()
    signed_in_at = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int) or time.time() - signed_in_at > SESSION_LIFETIME.total_seconds():
        session.clear()
        raise SignInRequired("Your session has ended; sign in again.")
    db_session = context.request_session()
    key = tenants.find_active_key_by_id(db_session, key_id)
    if key is None:
        session.clear()
        raise SignInRequired("The key this session signed in with was revoked; sign in with another.")
    principal = principal_of(key)
    tenant_id = session.get(TENANT_ID)
    if principal.admin and isinstance(tenant_id, int) and tenant_id != principal.tenant_id:
        try:
            principal = tenant_service.switch(db_session, principal, tenant_id)
        except NotFound:  # the tenant was deleted since: back to the key's own
            session.pop(TENANT_ID, None)
    request.environ[_PRINCIPAL] = principal
    return principal


def work_in(tenant_id: int) -> None:
    """Remember the tenant an admin key works in (checked by :func:`current` on every request)."""
    session[TENANT_ID] = tenant_id
    request.environ.pop(_PRINCIPAL, None)


def signed_in() -> Principal | None:
    """The caller if :func:`current` found one in this request (for templates, which never query)."""
    return request.environ.get(_PRINCIPAL)
