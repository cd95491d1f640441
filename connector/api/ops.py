"""Operations: ``/healthz`` and the files of the offline API docs page.

``/openapi.json`` and ``/docs`` are produced by flask-smorest from the marshmallow schemas (see
:mod:`connector.app`); the Swagger UI files come from the ``swagger-ui-bundle`` package and are served
here, so the docs page needs no internet.
"""

from __future__ import annotations

import logging

import swagger_ui_bundle
from flask import Blueprint, Response, jsonify, send_from_directory
from sqlalchemy.exc import SQLAlchemyError

from connector.api import context

log = logging.getLogger(__name__)

DOCS_ASSETS_URL = "/docs/assets/"

blp = Blueprint("ops", __name__)


@blp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the process runs and its database answers; 503 otherwise."""
    try:
        context.database().ping()
    except SQLAlchemyError as exc:
        log.warning("health check: database unavailable: %s", exc)
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok"), 200


@blp.get(DOCS_ASSETS_URL + "<path:filename>")
def docs_asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86_400)
