"""Tenants and their API keys. A key is shown once; only its SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector import ids
from connector.storage.models import ApiKey, Tenant, utcnow


class TenantOwned(Protocol):
    tenant_id: int


Row = TypeVar("Row", bound=TenantOwned)

KEY_PREFIX_LENGTH = 12
LAST_USED_RESOLUTION = timedelta(minutes=1)  # limits writes: one per key per minute at most


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def get_in_scope(session: Session, model: type[Row], row_id: str, tenant_id: int | None) -> Row | None:
    """The row of *model* with id *row_id* if it belongs to *tenant_id* (any tenant when ``None``)."""
    row = session.get(model, row_id)
    if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
        return None
    return row


def find_tenant(session: Session, name: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.name == name))


def get_or_create_tenant(session: Session, name: str) -> Tenant:
    """The tenant called *name*, created when missing (safe when two processes race)."""
    tenant = find_tenant(session, name)
    if tenant is not None:
        return tenant
    try:
        with session.begin_nested():
            tenant = Tenant(name=name)
            session.add(tenant)
    except IntegrityError:
        tenant = find_tenant(session, name)
        if tenant is None:
            raise
    return tenant


def create_api_key(session: Session, tenant: Tenant, label: str = "", admin: bool = False) -> tuple[ApiKey, str]:
    """A new key for *tenant*; returns the row and the plaintext key (never stored)."""
    plaintext = ids.api_key_secret()
    key = ApiKey(
        id=ids.api_key_id(),
        tenant=tenant,
        label=label,
        prefix=plaintext[:KEY_PREFIX_LENGTH],
        key_hash=hash_key(plaintext),
        is_admin=admin,
    )
    session.add(key)
    session.flush()
    return key, plaintext


def find_active_key(session: Session, plaintext: str) -> ApiKey | None:
    """The unrevoked key whose hash matches *plaintext*."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext), ApiKey.revoked_at.is_(None)))


def use_is_stale(key: ApiKey, now: datetime | None = None) -> bool:
    """Whether a use of *key* now should be recorded (at most once per :data:`LAST_USED_RESOLUTION`)."""
    now = now or utcnow()
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


def touch_key(session: Session, key_id: str, now: datetime | None = None) -> None:
    """Record a use of the key *key_id* now."""
    session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now or utcnow()))


def list_tenants(session: Session) -> Sequence[Tenant]:
    return session.scalars(select(Tenant).order_by(Tenant.name)).all()


def list_keys(session: Session, tenant_name: str | None = None) -> Sequence[ApiKey]:
    query = select(ApiKey).join(Tenant).order_by(Tenant.name, ApiKey.created_at, ApiKey.id)
    if tenant_name is not None:
        query = query.where(Tenant.name == tenant_name)
    return session.scalars(query).all()


def find_active_key_by_id(session: Session, key_id: str) -> ApiKey | None:
    """The unrevoked key with the id *key_id* (what a console session remembers)."""
    return session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)))


def revoke_key(session: Session, key_id: str, tenant_id: int | None = None) -> ApiKey | None:
    """Revoke the key *key_id* (by id or by its shown prefix) of *tenant_id* (any tenant when ``None``);
    ``None`` when there is no such key."""
    key = session.get(ApiKey, key_id) or session.scalar(select(ApiKey).where(ApiKey.prefix == key_id).limit(1))
    if key is None or (tenant_id is not None and key.tenant_id != tenant_id):
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
