"""The per-application objects the views use: settings and database (set up by the app factory)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from sqlalchemy.orm import Session

from connector.config import Settings
from connector.storage import Database

_SETTINGS = "billrun_connector.settings"
_DATABASE = "billrun_connector.database"


def install(app: Flask, settings: Settings, database: Database) -> None:
    app.extensions[_SETTINGS] = settings
    app.extensions[_DATABASE] = database


def settings() -> Settings:
    return current_app.extensions[_SETTINGS]


def database() -> Database:
    return current_app.extensions[_DATABASE]


@contextmanager
def session() -> Iterator[Session]:
    """One transaction on the application's database."""
    with database().session() as db_session:
        yield db_session
