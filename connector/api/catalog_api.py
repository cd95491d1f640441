"""The event catalog and samples (``/api/v1/events``), read by the Zapier app and the n8n node."""

from __future__ import annotations

from typing import Any

from connector.api import context
from connector.api.auth import current_principal, require_api_key
from connector.api.errors import ApiError
from connector.api.parsing import Blueprint
from connector.api.schemas import EnvelopeSchema, EventTypeDetailSchema, EventTypeListSchema, SamplesQuerySchema
from connector.api.validation import UnknownEventType, unknown_type_message
from connector.catalog import EventType, get_catalog
from connector.services import event_log

blp = Blueprint("catalog", __name__, url_prefix="/api/v1/events", description="The event catalog and samples.")
blp.before_request(require_api_key)


def _entry(event_type: str) -> EventType:
    try:
        return get_catalog().entry(event_type)
    except UnknownEventType as exc:
        raise ApiError(404, "not_found", unknown_type_message(exc)) from None


@blp.route("", methods=["GET"])
@blp.response(200, EventTypeListSchema)
def list_event_types() -> dict[str, Any]:
    """Every event type of the catalog, with its title, group and whether BillRun really fires it."""
    return {"data": list(get_catalog().types())}


@blp.route("/<event_type>", methods=["GET"])
@blp.response(200, EventTypeDetailSchema)
def get_event_type(event_type: str) -> dict[str, Any]:
    """One event type with the JSON Schema of its deliveries and the schema's samples."""
    entry = _entry(event_type)
    catalog = get_catalog()
    detail = EventTypeDetailSchema(exclude=("schema", "samples")).dump(entry)
    return {**detail, "schema": catalog.schema(event_type), "samples": catalog.samples(event_type)}


@blp.route("/<event_type>/samples", methods=["GET"])
@blp.arguments(SamplesQuerySchema, location="query")
@blp.response(200, EnvelopeSchema(many=True))
def samples(query: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    """Up to `limit` sample deliveries, newest first, exactly as they are delivered.

    The tenant's most recent stored events of this type (of the member types for a `trackchanges`
    group, of any action for `<module>.*`, of any type for `*`) when there are any, else the samples
    of the schema. Quarantined events are not shown.
    """
    _entry(event_type)
    with context.session() as session:
        return event_log.samples(context.runtime(), session, current_principal(), event_type, query["limit"])
