"""Who is acting: the API key and its tenant."""

from __future__ import annotations

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
