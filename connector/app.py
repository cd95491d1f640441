"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

import flask
import flask_smorest
from flask import Flask

from connector import __version__, console
from connector.api import (
    billrun_link_api,
    catalog_api,
    context,
    deliveries,
    hooks,
    ingest,
    me,
    metrics_api,
    ops,
    plugin,
    quarantine_api,
)
from connector.api.access_log import AccessLog
from connector.api.errors import handle_http_exception, register_error_handlers
from connector.api.ops import DOCS_ASSETS_URL
from connector.api.schemas import ErrorSchema
from connector.catalog import get_catalog
from connector.config import Settings
from connector.delivery.in_process import InProcessWorker
from connector.delivery.netguard import describe_allowed
from connector.services.runtime import Runtime
from connector.storage import Database, upgrade

log = logging.getLogger(__name__)

API_KEY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <API key>`"},
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "access_token"},
}


class Api(flask_smorest.Api):
    """flask-smorest with this service's error format."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)


def blueprints() -> list[flask.Blueprint]:
    """Every blueprint of the service, in registration order (add new interfaces here)."""
    return [
        ops.blp,
        me.blp,
        hooks.blp,
        catalog_api.blp,
        plugin.blp,
        ingest.blp,
        deliveries.blp,
        quarantine_api.blp,
        metrics_api.blp,
        billrun_link_api.blp,
    ]


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the service.

    *settings* defaults to the environment (``BILLRUN_CONNECTOR_*``); *overrides* replace single
    settings, e.g. ``create_app(database_url="sqlite:///x.db")``. The database schema is upgraded to
    the newest migration before the app is returned. Unless ``in_process_worker`` is off, a delivery
    worker runs inside the process (see :mod:`connector.delivery.in_process`).
    """
    settings = Settings.load(**overrides) if settings is None else settings.replace(**overrides)
    database = Database(settings.database_url)
    upgrade(database)
    runtime = Runtime(settings, database, get_catalog())

    app = Flask("connector")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="billrun-connector",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS_URL,
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "info": {"description": "Subscriptions, catalog and operations of the BillRun connector."},
            "components": {"securitySchemes": API_KEY_SCHEMES},
            "security": [{name: []} for name in API_KEY_SCHEMES],
        },
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    context.install(app, runtime)

    api = Api(app)
    for blueprint in blueprints():
        if isinstance(blueprint, flask_smorest.Blueprint):
            api.register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)
    for rule in app.url_map.iter_rules("plugin.dispatch"):  # a plain blueprint: documented by hand
        parameters = [dict(p) for p in plugin.OPENAPI_PATH_PARAMETERS if p["name"] in rule.arguments]
        api.spec.path(rule=rule, operations=plugin.openapi_operations(), parameters=parameters)
    register_error_handlers(app)
    console.install(app)
    app.wsgi_app = AccessLog(app.wsgi_app, settings.secret_key)  # type: ignore[method-assign]
    if settings.in_process_worker:
        runtime.worker = InProcessWorker(database, settings).start()
    log.info(
        "billrun-connector %s: database %s, %s, allowed target networks: %s",
        __version__,
        database.engine.url.render_as_string(hide_password=True),
        "in-process delivery worker"
        if settings.in_process_worker
        else "no in-process worker (run `billrun-connector worker`)",
        describe_allowed(settings.allowed_networks),
    )
    return app
