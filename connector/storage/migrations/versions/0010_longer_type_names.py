"""Event types as long as BillRun's names: a module of up to 100 characters and an action (a free-text
collection step name) of up to 255, on PostgreSQL. SQLite does not enforce lengths; its tables stay as
they are (rebuilding ``events`` there would also run its cascades).

Revision ID: 0010_longer_type_names
Revises: 0009_event_fanout
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_longer_type_names"
down_revision = "0009_event_fanout"
branch_labels = None
depends_on = None

_WIDENED = (
    ("events", "type", 200, 356),
    ("subscription_events", "event_type", 200, 356),
    ("billrun_registrations", "action", 200, 255),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, before, after in _WIDENED:  # widening a varchar rewrites nothing in PostgreSQL
        op.alter_column(table, column, type_=sa.String(after), existing_type=sa.String(before), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, before, after in _WIDENED:
        op.alter_column(table, column, type_=sa.String(before), existing_type=sa.String(after), existing_nullable=False)
