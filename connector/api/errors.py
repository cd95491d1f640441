"""JSON errors for the whole service: ``{"error": {"code", "message", "fields"}}``.

Views raise :class:`ApiError`; HTTP errors raised by Flask, webargs (request validation) and
flask-smorest are rendered the same way, so no client ever sees an HTML error page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

from connector.services import errors as service_errors

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error answer: HTTP *status*, a stable machine *code* and a human *message*."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = dict(fields)
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests errors by location and field: ``{"json": {"events": {"0": ["..."]}}}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, errors in _flatten_messages(value, name).items():
                flat.setdefault(field, []).extend(errors)
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        flat[prefix or "_request"] = list(messages)
    else:
        flat[prefix or "_request"] = [str(messages)]
    return flat


def _validation_fields(exc: HTTPException) -> dict[str, list[str]]:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    fields: dict[str, list[str]] = {}
    # Drop the location level ("json", "query", ...): clients know where they sent each field.
    for location_errors in messages.values() if isinstance(messages, Mapping) else [messages]:
        for field, errors in _flatten_messages(location_errors).items():
            fields.setdefault(field, []).extend(errors)
    return fields


def _too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return "the request body is too large"
    return f"the request body is larger than the limit of {limit} bytes (BILLRUN_CONNECTOR_MAX_BODY_BYTES)"


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    fields = _validation_fields(exc)
    if fields:
        summary = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in sorted(fields.items()))
        message = f"Invalid request: {summary}"
    elif status == 413:
        message = _too_large_message()
    else:
        message = exc.description or exc.name
    headers = dict((getattr(exc, "data", None) or {}).get("headers") or {})
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    return error_response(status, _CODES.get(status, exc.name.lower().replace(" ", "_")), message, fields, headers)


def handle_api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)


SERVICE_STATUS: dict[type[service_errors.ServiceError], int] = {
    service_errors.Unauthorized: 401,
    service_errors.Forbidden: 403,
    service_errors.NotFound: 404,
    service_errors.Conflict: 409,
    service_errors.Gone: 410,
    service_errors.Invalid: 422,
}


def service_status(exc: service_errors.ServiceError) -> int:
    """The HTTP status of a refused use case."""
    return next((status for kind, status in SERVICE_STATUS.items() if isinstance(exc, kind)), 400)


def handle_service_error(exc: service_errors.ServiceError) -> Response:
    status = service_status(exc)
    return error_response(status, exc.code or _CODES[status], exc.message, exc.fields)


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    log.exception("unhandled error", exc_info=exc)
    return handle_http_exception(InternalServerError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(service_errors.ServiceError, handle_service_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
