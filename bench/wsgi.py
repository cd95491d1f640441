"""``connector.wsgi:app`` with the bench's no-op endpoint, for gunicorn: ``gunicorn bench.wsgi:app``."""

from __future__ import annotations

from bench.noop import add_noop
from connector.wsgi import app

add_noop(app)

__all__ = ["app"]
