"""Ingest tokens: one row per ingest URL, so that a URL can be revoked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import ids
from connector.storage.models import IngestToken, Tenant, utcnow
from connector.storage.tenants import get_in_scope


def create_ingest_token(session: Session, tenant: Tenant, source: str = "") -> IngestToken:
    token = IngestToken(id=ids.ingest_token_id(), tenant=tenant, source=source)
    session.add(token)
    session.flush()
    return token


def list_ingest_tokens(session: Session, tenant_id: int | None = None) -> Sequence[IngestToken]:
    query = select(IngestToken).order_by(IngestToken.created_at, IngestToken.id)
    if tenant_id is not None:
        query = query.where(IngestToken.tenant_id == tenant_id)
    return session.scalars(query).all()


def revoke_ingest_token(session: Session, token_id: str, tenant_id: int | None = None) -> IngestToken | None:
    """Revoke the ingest URL *token_id* of *tenant_id* (any tenant when ``None``); ``None`` when unknown."""
    token = get_in_scope(session, IngestToken, token_id, tenant_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
