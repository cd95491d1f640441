"""API keys: create (the key is shown once), list, revoke. The command line and the console use these.

A tenant key manages its own tenant's keys; only an admin key makes admin keys or acts for another
tenant (which is created if new). Only a key's hash is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from connector.services.errors import Forbidden, NotFound
from connector.services.principal import Principal
from connector.services.tenants import clean_name, tenant_for
from connector.services.text import plain
from connector.storage import tenants
from connector.storage.models import ApiKey

MAX_LABEL = 200


def create(
    session: Session, principal: Principal, *, tenant: str | None = None, label: str = "", admin: bool = False
) -> tuple[ApiKey, str]:
    """A new key and its plaintext (never stored: show it now or never)."""
    if admin and not principal.admin:
        raise Forbidden("only an admin key may create admin keys")
    label = plain(label, "label", MAX_LABEL)
    owner = tenant_for(session, principal, tenant, create=True)
    return tenants.create_api_key(session, owner, label=label, admin=admin)


def listing(session: Session, principal: Principal, tenant: str | None = None) -> Sequence[ApiKey]:
    """Keys (their ids and first characters, never the keys): a tenant key sees its own tenant's; an
    admin key every tenant's, or only those of the tenant named."""
    if not principal.admin:
        return tenants.list_keys(session, principal.tenant_name)
    return tenants.list_keys(session, clean_name(tenant) if tenant is not None else None)


def revoke(session: Session, principal: Principal, key_id: str) -> ApiKey:
    """Revoke a key by id or shown prefix; another tenant's key is refused as unknown."""
    key = tenants.revoke_key(session, key_id.strip(), principal.scope)
    if key is None:
        raise NotFound(f"no key {key_id!r}")
    return key
