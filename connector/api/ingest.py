"""Ingest from BillRun: ``POST /ingest/billrun/<token>``.

BillRun signs nothing, so the URL is the credential: its last segment is an
itsdangerous-signed token naming an ``ingest_tokens`` row (tenant and source), which
can be revoked. The event and its deliveries are committed in one transaction before
the 200 answer; nothing is delivered inside the request. BillRun logs a warning when
the answer's body is empty, so the answer always carries a small JSON body.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_smorest import Blueprint
from itsdangerous import BadSignature, URLSafeSerializer

from connector import billrun
from connector.api import context
from connector.api.errors import ApiError
from connector.catalog import get_catalog
from connector.metrics import EVENTS_INGESTED, wake_worker
from connector.storage import queue

log = logging.getLogger(__name__)

INGEST_PATH = "/ingest/billrun/"
_SALT = "billrun-connector.ingest-url"
MAX_CACHED_TOKEN = 200  # real tokens are under 100 characters; longer ones are checked, never kept

blp = Blueprint("ingest", __name__, description="What BillRun's webhooks plugin posts to (the URL is the credential).")

_ANSWER = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "enum": [1]},
        "id": {"type": "string", "description": "The event id: the webhook-id of its deliveries."},
        "type": {"type": "string"},
        "deliveries": {"type": "integer", "description": "Subscriptions it was queued for."},
        "schema_valid": {"type": "boolean"},
    },
}
_DOC = {
    "security": [],
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "description": "BillRun's PHP form body: module, action and the payload."}
            },
            "application/json": {"schema": {"type": "object", "required": ["module", "action"]}},
        },
    },
    "responses": {
        "200": {"description": "Stored with its deliveries", "content": {"application/json": {"schema": _ANSWER}}},
        "400": {"description": "Unreadable body"},
        "401": {"description": "Not an ingest URL of this connector, or revoked"},
        "413": {"description": "Body over the size limit"},
        "415": {"description": "Neither a form body nor JSON"},
        "422": {"description": "Unknown module/action, or (strict mode) a payload that does not match its schema"},
    },
}


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_SALT)


def make_ingest_token(secret_key: str, token_id: str) -> str:
    """The signed path segment of an ingest URL for the ``ingest_tokens`` row *token_id*."""
    return str(_serializer(secret_key).dumps(token_id))


def read_ingest_token(secret_key: str, token: str) -> str | None:
    """The ``ingest_tokens`` row id a token names, or None when its signature does not hold.

    Checking a signature derives a key and decodes JSON on every request; BillRun posts to the
    same few URLs, so answers for short tokens are kept (revocation is checked in the database).
    """
    if len(token) <= MAX_CACHED_TOKEN:
        return _cached_token_id(secret_key, token)
    return _token_id(secret_key, token)


def _token_id(secret_key: str, token: str) -> str | None:
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


_cached_token_id = lru_cache(maxsize=256)(_token_id)


def ingest_url(base_url: str, secret_key: str, token_id: str) -> str:
    return base_url.rstrip("/") + INGEST_PATH + make_ingest_token(secret_key, token_id)


def _wire_error(exc: billrun.WireFormatError) -> ApiError:
    if isinstance(exc, billrun.BodyTooLarge):
        return ApiError(413, "payload_too_large", str(exc))
    if isinstance(exc, billrun.UnsupportedContentType):
        return ApiError(415, "unsupported_media_type", str(exc))
    if isinstance(exc, billrun.UnknownDeliveryType):
        return ApiError(422, "unknown_event", str(exc))
    return ApiError(400, "bad_request", f"unreadable BillRun delivery: {exc}")


@blp.route(INGEST_PATH + "<token>", methods=["POST"])
@blp.doc(**_DOC)
def ingest(token: str) -> tuple[Response, int]:
    """Take one BillRun webhook delivery (PHP form body or JSON) and queue it for every subscriber."""
    settings = context.settings()
    token_id = read_ingest_token(settings.secret_key, token)
    if token_id is None:
        raise ApiError(401, "unauthorized", "this ingest URL is not valid")
    catalog = get_catalog()
    # Parse and validate before the transaction: on SQLite a write transaction holds the one
    # write lock, which the worker and every other ingest wait for.
    body = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: werkzeug raises 413
    try:
        event_type, data = billrun.parse_delivery(
            body, request.content_type or "", catalog=catalog, max_bytes=settings.max_body_bytes
        )
    except billrun.WireFormatError as exc:
        error = _wire_error(exc)
        if error.status == 422:
            log.warning("ingest refused: %s", exc)
        raise error from None
    issues = [str(issue) for issue in catalog.validate_data(event_type, data)]
    if issues and settings.strict_schemas:
        log.warning("ingest refused: %s does not match its schema: %s", event_type, "; ".join(issues))
        raise ApiError(
            422,
            "schema_mismatch",
            f"the {event_type} payload does not match its schema ({len(issues)} errors)",
            {"data": issues},
        )
    # A plain connection, not an ORM session: the ingest writes with Core statements only.
    with context.database().engine.begin() as connection:
        found = queue.active_ingest_source(connection, token_id)
        if found is None:
            raise ApiError(401, "unauthorized", "this ingest URL was revoked")
        tenant_id, source = found
        stored = queue.store_event(
            connection,
            tenant_id=tenant_id,
            event_type=event_type,
            data=data,
            subscription_keys=catalog.subscription_keys(event_type),
            source=source or "billrun",
            schema_valid=not issues,
            validation_errors=issues,
        )
    answer: dict[str, Any] = {
        "status": 1,
        "id": stored.event.id,
        "type": event_type,
        "deliveries": stored.deliveries,
        "schema_valid": not issues,
    }
    EVENTS_INGESTED.labels("billrun").inc()
    if stored.deliveries:
        wake_worker(current_app)
    return jsonify(answer), 200
