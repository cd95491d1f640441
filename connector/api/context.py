"""What the views work with: the process's runtime (set up by the app factory) and the request's
one database session.

A request has one session and one transaction, opened at its first use (by authentication, usually)
and closed when the request ends: a ``with session():`` block commits what the request did so far
when it ends, or rolls it back on an exception. Requests with a safe method (GET, HEAD, OPTIONS) read
only: on SQLite their transactions never wait for, nor hold, the write lock.
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


def request_writes() -> bool:
    """Whether this request may write: not for a safe method, unless the view said otherwise."""
    return bool(g.get("db_writes", request.method not in SAFE_METHODS))


def declare_writes(writes: bool) -> None:
    """For views whose method does not say it (BillRun's plugin API creates on a GET): call before
    the request's first database use."""
    g.db_writes = writes


def request_session() -> Session:
    """The request's session (opened now if this is its first use)."""
    current: Session | None = g.get("db_session")
    if current is None:
        current = g.db_session = (database().sessions if request_writes() else database().read_sessions)()
    return current


@contextmanager
def session() -> Iterator[Session]:
    """The request's session; the outermost block commits at its end (rolls back on an exception)."""
    current = request_session()
    if g.get("db_block"):  # a block inside a block: part of the outer one
        yield current
        return
    g.db_block = True
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise
    finally:
        g.db_block = False


def end_transaction() -> None:
    """Commit what the request did so far (authentication) and hold no lock, for views whose use
    cases run transactions of their own."""
    current: Session | None = g.get("db_session")
    if current is not None:
        current.commit()


def _close_session(_error: BaseException | None) -> None:
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.close()
