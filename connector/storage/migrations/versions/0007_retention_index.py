"""The purge walks old events by creation time: an index on ``events.created_at``.

Revision ID: 0007_retention_index
Revises: 0006_billrun_link
"""

from __future__ import annotations

from alembic import op

revision = "0007_retention_index"
down_revision = "0006_billrun_link"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_events_created_at"), "events", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_events_created_at"), table_name="events")
