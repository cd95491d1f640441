"""Subscriptions that expire, the time of a secret's rotation, and what is left of removed ones.

Revision ID: 0008_subscription_lifecycle
Revises: 0007_retention_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_subscription_lifecycle"
down_revision = "0007_retention_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_subscriptions_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "removed_subscriptions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_removed_subscriptions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removed_subscriptions")),
    )
    op.create_index(op.f("ix_removed_subscriptions_removed_at"), "removed_subscriptions", ["removed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_removed_subscriptions_removed_at"), table_name="removed_subscriptions")
    op.drop_table("removed_subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_index(batch.f("ix_subscriptions_expires_at"))
        batch.drop_column("expires_at")
        batch.drop_column("secret_rotated_at")
