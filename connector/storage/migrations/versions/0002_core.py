"""Webhook ids of the plugin API belong to a tenant: ``subscriptions.webhook_id``, unique per tenant.

Revision ID: 0002_core
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_core"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("webhook_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_subscriptions_tenant_id_webhook_id"), ["tenant_id", "webhook_id"])


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint(op.f("uq_subscriptions_tenant_id_webhook_id"), type_="unique")
        batch.drop_column("webhook_id")
