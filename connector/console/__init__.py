"""The operator console: server-rendered pages at ``/`` over the same use cases as the APIs.

Sign in with an API key: a tenant's key sees its tenant, an admin key can switch tenant. Each page
module parses what the page sent, calls a use case in :mod:`connector.services` and renders; the
templates, the stylesheet and the one small script ship in this package (no CDN).
"""

from __future__ import annotations

from flask import Flask

from connector.console import (  # noqa: F401  (each page module adds its routes to the blueprint)
    access_views,
    auth_views,
    delivery_views,
    event_views,
    overview_views,
    pages,
    subscription_views,
)
from connector.console.blueprint import bp
from connector.console.security import install as install_security


def install(app: Flask) -> None:
    """Serve the console from *app*."""
    install_security(app)
    app.register_blueprint(bp)
