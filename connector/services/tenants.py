"""Tenants: which one a new key, ingest URL or subscription belongs to; an admin's tenant switch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from connector.services.errors import Forbidden, Invalid, NotFound
from connector.services.principal import Principal
from connector.services.text import plain
from connector.storage import tenants
from connector.storage.models import Tenant

MAX_TENANT_NAME = 200


def clean_name(name: str) -> str:
    """A tenant name as stored: stripped, 1 to 200 characters of one line."""
    return plain(name, "tenant", MAX_TENANT_NAME, required=True)


def tenant_for(session: Session, principal: Principal, name: str | None, *, create: bool = False) -> Tenant:
    """The tenant something new belongs to: the caller's own (no name, or its own name), or, for an
    admin key only, the one named; created when missing if *create* (keys and ingest URLs), refused
    otherwise (subscriptions)."""
    own = name is None or (principal.tenant_name != "" and name.strip() == principal.tenant_name)
    if own:
        tenant = session.get(Tenant, principal.tenant_id)
        if tenant is None:
            raise Invalid("name the tenant", {"tenant": ["required"]})
        return tenant
    if not principal.admin:
        raise Forbidden("only an admin key may act for another tenant")
    cleaned = clean_name(name)
    if create:
        return tenants.get_or_create_tenant(session, cleaned)
    tenant = tenants.find_tenant(session, cleaned)
    if tenant is None:
        raise Invalid(f"no tenant {cleaned!r}", {"tenant": [f"no tenant {cleaned!r}"]})
    return tenant


def switchable(session: Session, principal: Principal) -> Sequence[Tenant]:
    """The tenants the caller may work in: every tenant for an admin key, none to switch to otherwise."""
    return tenants.list_tenants(session) if principal.admin else ()


def switch(session: Session, principal: Principal, tenant_id: int) -> Principal:
    """The caller working in the tenant *tenant_id*; only an admin key may switch."""
    if not principal.admin:
        raise Forbidden("only an admin key may switch tenant")
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant with id {tenant_id}")
    return principal.acting_for(tenant.id, tenant.name)
