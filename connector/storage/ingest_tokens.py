"""Ingest tokens: one row per ingest URL, so that a URL can be revoked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import ids
from connector.storage.models import IngestToken, Tenant, utcnow


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


def revoke_ingest_token(session: Session, token_id: str) -> IngestToken | None:
    token = session.get(IngestToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
