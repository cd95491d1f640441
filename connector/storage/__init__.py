"""Storage: SQLAlchemy models, the engine, migrations and repositories (no Flask, no HTTP)."""

from connector.storage.engine import Database, make_engine, normalize_url
from connector.storage.migrate import upgrade

__all__ = ["Database", "make_engine", "normalize_url", "upgrade"]
