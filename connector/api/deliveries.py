"""Integrator ingest, test sends and the delivery log (``/api/v1``).

- ``POST /api/v1/events``: publish an event under the key's tenant, idempotent on ``id``.
- ``POST /api/v1/hooks/<id>/test``: send a type's sample to that one subscription.
- ``GET /api/v1/hooks/<id>/deliveries``, ``GET /api/v1/deliveries/<id>``: the log, with attempts.
- ``POST /api/v1/deliveries/<id>/retry``, ``POST /api/v1/hooks/<id>/recover``: send again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from connector.api import context
from connector.api.auth import current_principal, require_api_key
from connector.api.parsing import Blueprint
from connector.api.schemas import MAX_PAGE, PageCursor, encode_cursor
from connector.api.validation import UnknownEventType, unknown_type_message, validate_deliverable_type
from connector.catalog import get_catalog
from connector.services import deliveries as services
from connector.storage.deliveries import DELIVERY_STATUSES
from connector.storage.events import StoredEvent
from connector.storage.models import Delivery, Event

CLIENT_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,200}\Z")

blp = Blueprint("deliveries", __name__, url_prefix="/api/v1", description="Publishing events and the delivery log.")
blp.before_request(require_api_key)


class UtcDateTime(fields.DateTime):
    """An ISO 8601 time; one without a zone is taken as UTC. It must lie within years 1 to 9999 in UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                f"{value!r} is outside the years 1 to 9999 once converted to UTC; send a time in that range"
            ) from None


class DeliverableType(fields.String):
    """A concrete event type an event can carry (not a trackchanges group, not ``collection.*``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return validate_deliverable_type(name)
        except UnknownEventType as exc:
            raise ValidationError(unknown_type_message(exc)) from None


class EventCreateSchema(Schema):
    type = DeliverableType(required=True, metadata={"description": "A concrete catalog type, e.g. `accounts.create`."})
    data = fields.Dict(required=True, metadata={"description": "The payload, as in the type's JSON Schema."})
    id = fields.String(
        validate=validate.Regexp(CLIENT_ID, error="1-200 characters of letters, digits and _ . : -"),
        metadata={"description": "Your id for this event: a repeat with the same id is answered as the first."},
    )
    timestamp = UtcDateTime(metadata={"description": "When it happened (default: now)."})


class EventAcceptedSchema(Schema):
    id = fields.String(required=True, metadata={"description": "The event id: the `webhook-id` of its deliveries."})
    client_id = fields.String(allow_none=True)
    type = fields.String(required=True)
    timestamp = fields.String(required=True)
    deliveries = fields.Integer(
        allow_none=True,
        metadata={"description": "Deliveries made for it; null while its fan-out is pending or it is in quarantine."},
    )
    fanout = fields.String(
        required=True,
        metadata={
            "description": "`pending` (the worker makes its deliveries next), `done`, or `quarantined` "
            "(strict schemas: held back until an operator releases it)."
        },
    )
    schema_valid = fields.Boolean(required=True)
    validation_errors = fields.List(fields.String(), allow_none=True)


class TestSendSchema(Schema):
    type = DeliverableType(metadata={"description": "The sample's type (default: the first type the hook receives)."})


class AttemptSchema(Schema):
    started_at = fields.DateTime()
    duration_ms = fields.Integer(allow_none=True)
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    response_excerpt = fields.String(allow_none=True, metadata={"description": "At most 20 KB of the answer."})
    worker_id = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    event_in_catalog = fields.Boolean(
        required=True,
        metadata={
            "description": "False for a type the catalog does not know: BillRun sent it, the connector kept it"
            " and delivers it to `*` and `<module>.*` subscribers."
        },
    )
    subscription_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "`pending`, `succeeded`, `failed` or `cancelled`."})
    attempt_count = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class DeliveryDetailSchema(DeliverySchema):
    event = fields.Dict(metadata={"description": "The delivered body `{id, type, timestamp, data}`."})
    event_schema_valid = fields.Boolean(metadata={"description": "Whether the event's payload matched its schema."})
    event_issues = fields.List(
        fields.String(),
        allow_none=True,
        metadata={
            "description": "What was odd about the event when it came in: schema errors, a type not in the"
            " catalog, what reading BillRun's body had to change (invalid UTF-8, a field PHP drops)."
        },
    )
    attempts = fields.List(fields.Nested(AttemptSchema))


class DeliveryListQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = PageCursor(metadata={"description": "`next_cursor` of the previous page."})


class DeliveryListSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class RecoverSchema(Schema):
    since = UtcDateTime(
        required=True, metadata={"description": "Re-queue failed deliveries created at or after this time."}
    )


class RecoveredSchema(Schema):
    recovered = fields.Integer(required=True)


_FROM_THE_EVENT = ("event_type", "event_in_catalog")
_DELIVERY_COLUMNS = tuple(name for name in DeliverySchema().fields if name not in _FROM_THE_EVENT)


def _delivery_view(delivery: Delivery, event: Event) -> dict[str, Any]:
    """A delivery and its event's type, for the response schemas to dump."""
    return {
        **{name: getattr(delivery, name) for name in _DELIVERY_COLUMNS},
        "event_type": event.type,
        "event_in_catalog": get_catalog().knows(event.type),
    }


def _accepted(stored: StoredEvent) -> dict[str, Any]:
    event = stored.event
    return {
        "id": event.id,
        "client_id": event.client_event_id,
        "type": event.type,
        "timestamp": event.envelope()["timestamp"],
        "deliveries": stored.deliveries,
        "fanout": event.fanout_state,
        "schema_valid": event.schema_valid,
        "validation_errors": event.validation_errors,
    }


@blp.route("/events", methods=["POST"])
@blp.arguments(EventCreateSchema)
@blp.response(202, EventAcceptedSchema)
def publish_event(body: dict[str, Any]) -> dict[str, Any]:
    """Publish an event under the key's tenant; the worker then delivers it to every matching subscription.

    With `id`, publishing is idempotent: a repeat answers as the first did and queues nothing.
    A payload that does not match the type's schema is accepted and flagged (`schema_valid` false);
    with strict schemas on, it is also held in quarantine (`fanout` `quarantined`) until released.
    """
    with context.session() as session:
        stored = services.publish(
            context.runtime(),
            session,
            current_principal(),
            event_type=body["type"],
            data=body["data"],
            timestamp=body.get("timestamp"),
            client_event_id=body.get("id"),
        )
        return _accepted(stored)


@blp.route("/hooks/<subscription_id>/test", methods=["POST"])
@blp.arguments(TestSendSchema)
@blp.response(202, EventAcceptedSchema)
def test_send(body: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    """Send a sample of one of the hook's event types to this subscription only (source `test`)."""
    with context.session() as session:
        stored = services.send_test(context.runtime(), session, current_principal(), subscription_id, body.get("type"))
        return _accepted(stored)


@blp.route("/hooks/<subscription_id>/deliveries", methods=["GET"])
@blp.arguments(DeliveryListQuerySchema, location="query")
@blp.response(200, DeliveryListSchema)
def list_hook_deliveries(query: dict[str, Any], subscription_id: str) -> dict[str, Any]:
    """The hook's deliveries, newest first, optionally only those with one `status`; paginated by cursor."""
    with context.session() as session:
        page, more = services.page(
            session,
            current_principal(),
            subscription_id,
            status=query.get("status"),
            limit=query["limit"],
            before=query.get("cursor"),
        )
        next_cursor = encode_cursor(page[-1][0].created_at, page[-1][0].id) if more else None
        return {"data": [_delivery_view(d, e) for d, e in page], "next_cursor": next_cursor}


@blp.route("/deliveries/<delivery_id>", methods=["GET"])
@blp.response(200, DeliveryDetailSchema)
def get_delivery(delivery_id: str) -> dict[str, Any]:
    """One delivery with the body it carries and every attempt (time, status, duration, error, response excerpt)."""
    with context.session() as session:
        delivery, event, attempts = services.detail(session, current_principal(), delivery_id)
        return {
            **_delivery_view(delivery, event),
            "event": event.envelope(),
            "event_schema_valid": event.schema_valid,
            "event_issues": event.validation_errors,
            "attempts": attempts,
        }


@blp.route("/deliveries/<delivery_id>/retry", methods=["POST"])
@blp.response(202, DeliverySchema)
def retry_delivery(delivery_id: str) -> dict[str, Any]:
    """Make the delivery due now, whatever its status (same event, same `webhook-id`).

    A delivery that is being attempted right now is not sent twice at once: that answers 409.
    """
    with context.session() as session:
        return _delivery_view(*services.retry(context.runtime(), session, current_principal(), delivery_id))


@blp.route("/hooks/<subscription_id>/recover", methods=["POST"])
@blp.arguments(RecoverSchema)
@blp.response(202, RecoveredSchema)
def recover(body: dict[str, Any], subscription_id: str) -> dict[str, int]:
    """Re-queue every failed delivery of the hook created at or after `since`."""
    with context.session() as session:
        return {
            "recovered": services.recover(
                context.runtime(), session, current_principal(), subscription_id, body["since"]
            )
        }
