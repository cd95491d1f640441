"""BillRun connection of a tenant and the webhooks the connector registered in its BillRun.

Revision ID: 0006_billrun_link
Revises: 0002_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_billrun_link"
down_revision = "0002_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billrun_connections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("webhook_id_prefix", sa.String(length=32), nullable=False),
        sa.Column("ingest_base_url", sa.Text(), nullable=False),
        sa.Column("ingest_token_id", sa.String(length=64), nullable=True),
        sa.Column("collection_steps", sa.JSON(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("disconnect_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingest_token_id"],
            ["ingest_tokens.id"],
            name=op.f("fk_billrun_connections_ingest_token_id_ingest_tokens"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_billrun_connections_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billrun_connections")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_billrun_connections_tenant_id")),
        sa.UniqueConstraint("webhook_id_prefix", name=op.f("uq_billrun_connections_webhook_id_prefix")),
    )
    op.create_table(
        "billrun_registrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("url_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["billrun_connections.id"],
            name=op.f("fk_billrun_registrations_connection_id_billrun_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billrun_registrations")),
        sa.UniqueConstraint(
            "connection_id", "module", "action", name=op.f("uq_billrun_registrations_connection_id_module_action")
        ),
        sa.UniqueConstraint(
            "connection_id", "webhook_id", name=op.f("uq_billrun_registrations_connection_id_webhook_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("billrun_registrations")
    op.drop_table("billrun_connections")
