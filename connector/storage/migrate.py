"""Apply the Alembic migrations shipped inside the package.

Several processes may start at once (web processes and workers on PostgreSQL): on PostgreSQL the
upgrade runs under a transaction-level advisory lock; on SQLite ``BEGIN IMMEDIATE`` serialises it.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from connector.storage.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x62726331  # an arbitrary constant naming this project's migration lock


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema of *db* up to *revision*."""
    config = alembic_config()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
