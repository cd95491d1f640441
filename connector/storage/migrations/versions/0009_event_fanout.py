"""Fan-out after the ingest: an event's fan-out state, and one delivery per event and subscription.

Events stored before this revision already have their deliveries: they are ``done``.

Revision ID: 0009_event_fanout
Revises: 0008_subscription_lifecycle
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_event_fanout"
down_revision = "0008_subscription_lifecycle"
branch_labels = None
depends_on = None

NOT_DONE = sa.text("fanout_state != 'done'")


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("fanout_state", sa.String(length=16), server_default="done", nullable=False))
        batch.add_column(sa.Column("fanout_after", sa.String(length=64), nullable=True))
    op.create_index(
        op.f("ix_events_fanout_state_created_at_id"),
        "events",
        ["fanout_state", "created_at", "id"],
        unique=False,
        sqlite_where=NOT_DONE,
        postgresql_where=NOT_DONE,
    )
    op.create_index(
        op.f("ix_deliveries_event_id_subscription_id"), "deliveries", ["event_id", "subscription_id"], unique=True
    )
    op.drop_index(op.f("ix_deliveries_event_id"), table_name="deliveries")


def downgrade() -> None:
    op.create_index(op.f("ix_deliveries_event_id"), "deliveries", ["event_id"], unique=False)
    op.drop_index(op.f("ix_deliveries_event_id_subscription_id"), table_name="deliveries")
    op.drop_index(op.f("ix_events_fanout_state_created_at_id"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("fanout_after")
        batch.drop_column("fanout_state")
