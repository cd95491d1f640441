"""Ingest from BillRun: ``POST /ingest/billrun/<token>`` (see :mod:`connector.ingest_urls`).

The event is committed before the 200 answer; the worker fans it out into deliveries after it, so
the answer's time does not grow with the number of subscribers, and nothing is delivered inside
the request. BillRun logs a warning when the answer's body is empty, so the
answer always carries a small JSON body.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify, request
from flask_smorest import Blueprint

from connector import billrun
from connector.api import context
from connector.api.errors import ApiError
from connector.ingest_urls import INGEST_PATH
from connector.services.ingest import ingest_billrun

log = logging.getLogger(__name__)

blp = Blueprint("ingest", __name__, description="What BillRun's webhooks plugin posts to (the URL is the credential).")

_ANSWER = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "enum": [1]},
        "id": {"type": "string", "description": "The event id: the webhook-id of its deliveries."},
        "type": {"type": "string"},
        "fanout": {
            "type": "string",
            "enum": ["pending", "quarantined"],
            "description": "pending: the worker makes its deliveries next; quarantined: held back (strict "
            "schemas) until an operator releases it.",
        },
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
        "200": {"description": "Stored", "content": {"application/json": {"schema": _ANSWER}}},
        "401": {"description": "Not an ingest URL of this connector, or revoked"},
        "413": {"description": "Body over the size limit"},
        "415": {"description": "Neither a form body nor JSON"},
        "400": {"description": "Not a BillRun delivery: unreadable, or no usable module and action"},
    },
}


def _wire_error(exc: billrun.WireFormatError) -> ApiError:
    if isinstance(exc, billrun.BodyTooLarge):
        return ApiError(413, "payload_too_large", str(exc))
    if isinstance(exc, billrun.UnsupportedContentType):
        return ApiError(415, "unsupported_media_type", str(exc))
    if isinstance(exc, billrun.UnknownDeliveryType):
        return ApiError(400, "not_a_delivery", str(exc))
    return ApiError(400, "bad_request", f"unreadable BillRun delivery: {exc}")


@blp.route(INGEST_PATH + "<token>", methods=["POST"])
@blp.doc(**_DOC)
def ingest(token: str) -> tuple[Response, int]:
    """Take one BillRun webhook delivery (PHP form body or JSON) and store it for every subscriber."""
    body = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: werkzeug raises 413
    try:
        result = ingest_billrun(context.runtime(), token, body, request.content_type or "")
    except billrun.WireFormatError as exc:
        log.warning("ingest refused: %s", exc)
        raise _wire_error(exc) from None
    stored = result.stored
    answer: dict[str, Any] = {
        "status": 1,
        "id": stored.event.id,
        "type": stored.event.type,
        "fanout": stored.event.fanout_state,
        "schema_valid": stored.event.schema_valid,
    }
    return jsonify(answer), 200
