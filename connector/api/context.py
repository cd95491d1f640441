"""What the views work with: the process's runtime (set up by the app factory) and the request's
one database session.

A request has one session, opened at its first use (by authentication, usually) and closed when
the request ends. Each ``with session():`` block is one transaction, committed when the block ends
and rolled back on an exception. Requests with a safe method (GET, HEAD, OPTIONS) read only: on
SQLite their transactions never wait for, nor hold, the write lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from connector.config import Settings
from connector.services.runtime import Runtime
from connector.storage import Database

_RUNTIME = "billrun_connector.runtime"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def install(app: Flask, runtime: Runtime) -> None:
    app.extensions[_RUNTIME] = runtime
    app.teardown_request(_close_session)


def runtime() -> Runtime:
    return current_app.extensions[_RUNTIME]


def settings() -> Settings:
    return runtime().settings


def database() -> Database:
    return runtime().database


def request_session() -> Session:
    """The request's session (opened now if this is its first use)."""
    current: Session | None = g.get("db_session")
    if current is None:
        sessions = database().sessions if request.method not in SAFE_METHODS else database().read_sessions
        current = g.db_session = sessions()
    return current


@contextmanager
def session() -> Iterator[Session]:
    """One transaction on the request's session."""
    current = request_session()
    if current.in_transaction():  # a block inside a block: part of the outer transaction
        yield current
        return
    with current.begin():
        yield current


def _close_session(_error: BaseException | None) -> None:
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.close()
