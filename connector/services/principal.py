"""Who is acting: the API key and its tenant."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The caller of a use case: a key and its tenant; an admin key may act on every tenant."""

    key_id: str
    label: str
    admin: bool
    tenant_id: int
    tenant_name: str

    @property
    def scope(self) -> int | None:
        """The tenant a lookup is limited to, or ``None`` (every tenant) for an admin key."""
        return None if self.admin else self.tenant_id

    def within(self, tenant_id: int | None) -> int | None:
        """The tenant a listing is limited to when the caller asks for *tenant_id* (``None``: every
        tenant): a tenant key always gets its own; an admin key gets what it asks for."""
        return tenant_id if self.admin else self.tenant_id

    def acting_for(self, tenant_id: int, tenant_name: str) -> Principal:
        """The same key working in another tenant (an admin key's tenant switch in the console)."""
        return dataclasses.replace(self, tenant_id=tenant_id, tenant_name=tenant_name)


# The command line: whoever can open the database acts on every tenant. It has no tenant of its
# own (id 0 names none), so the commands always name the tenant they act on.
COMMAND_LINE = Principal(key_id="", label="command line", admin=True, tenant_id=0, tenant_name="")
