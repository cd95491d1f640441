"""Quarantine (``/api/v1/quarantine``): events strict schemas held back, listed and released."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from connector.api import context
from connector.api.auth import current_principal, require_api_key
from connector.api.parsing import Blueprint
from connector.api.schemas import MAX_PAGE, PageCursor, encode_cursor
from connector.services import quarantine as services
from connector.storage.models import Event

blp = Blueprint(
    "quarantine",
    __name__,
    url_prefix="/api/v1/quarantine",
    description="Events held back because their payload fails its schema (strict schemas on); release them "
    "once the schema is fixed.",
)
blp.before_request(require_api_key)


class StoredEventSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    timestamp = fields.DateTime(required=True)
    created_at = fields.DateTime(required=True)
    source = fields.String()
    data = fields.Raw(metadata={"description": "The normalised payload."})
    schema_valid = fields.Boolean()
    validation_errors = fields.List(fields.String(), allow_none=True)
    fanout = fields.String(attribute="fanout_state", metadata={"description": "`quarantined`, `pending` or `done`."})


class QuarantineQuerySchema(Schema):
    type = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Only this event type."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = PageCursor(metadata={"description": "`next_cursor` of the previous page."})


class QuarantinePageSchema(Schema):
    data = fields.List(fields.Nested(StoredEventSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class ReleaseAllSchema(Schema):
    type = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Only this event type."})


class ReleasedSchema(Schema):
    released = fields.Integer(required=True)
    more = fields.Boolean(required=True, metadata={"description": "Call again: more events are waiting."})


@blp.route("", methods=["GET"])
@blp.arguments(QuarantineQuerySchema, location="query")
@blp.response(200, QuarantinePageSchema)
def list_quarantined(query: dict[str, Any]) -> dict[str, Any]:
    """The tenant's events in quarantine, oldest first, with the schema errors that held each back."""
    with context.session() as session:
        rows, more = services.page(
            session,
            current_principal().scope,
            event_type=query.get("type"),
            limit=query["limit"],
            after=query.get("cursor"),
        )
        return {"data": rows, "next_cursor": encode_cursor(rows[-1].created_at, rows[-1].id) if more else None}


@blp.route("/<event_id>/release", methods=["POST"])
@blp.response(202, StoredEventSchema)
def release_one(event_id: str) -> Event:
    """Release one event: checked again against the schema as it is now, then delivered to its subscribers."""
    with context.session() as session:
        return services.release_one(context.runtime(), session, current_principal().scope, event_id)


@blp.route("/release", methods=["POST"])
@blp.arguments(ReleaseAllSchema)
@blp.response(202, ReleasedSchema)
def release_all(body: dict[str, Any]) -> dict[str, Any]:
    """Release the tenant's quarantined events (of one `type`, if given), up to 1,000 per call, oldest first."""
    with context.session() as session:
        released = services.release_all(
            context.runtime(), session, current_principal().scope, event_type=body.get("type")
        )
        return {"released": released, "more": released == services.MAX_RELEASE}
