"""marshmallow schemas of the REST API: request validation and the OpenAPI document."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from connector.api import context
from connector.api.validation import (
    InvalidTargetUrl,
    UnknownEventType,
    unknown_type_message,
    validate_event_type,
    validate_target_url,
)
from connector.delivery.targets import MAX_URL_LENGTH
from connector.services.subscriptions import MAX_EXPIRES_IN, MIN_EXPIRES_IN
from connector.storage.subscriptions import STATUSES, Cursor

MAX_EVENTS = 50
MAX_PAGE = 100
TARGET_URL_ALIASES = ("hookUrl", "url")


class TargetUrl(fields.String):
    """An http(s) target URL, checked by the shared target URL validation."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return validate_target_url(text, context.settings())
        except InvalidTargetUrl as exc:
            raise ValidationError(str(exc)) from None


class EventType(fields.String):
    """The name of a catalog event type one may subscribe to."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        try:
            return validate_event_type(text)
        except UnknownEventType as exc:
            raise ValidationError(unknown_type_message(exc)) from None


def _merge_aliases(data: Any) -> Any:
    """Fold ``hookUrl``/``url`` into ``target_url`` and ``event`` into ``events``."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    urls = {name: data.pop(name) for name in ("target_url", *TARGET_URL_ALIASES) if name in data}
    if len({json.dumps(value, sort_keys=True) for value in urls.values()}) > 1:
        raise ValidationError(f"give the target URL once: {', '.join(urls)} differ", field_name="target_url")
    if urls:
        data["target_url"] = next(iter(urls.values()))
    if "event" in data:
        event = data.pop("event")
        if "events" in data:
            raise ValidationError("give either 'event' or 'events', not both", field_name="events")
        data["events"] = event if isinstance(event, list) else [event]
    elif "events" in data and isinstance(data["events"], str):
        data["events"] = [part.strip() for part in data["events"].split(",") if part.strip()]
    return data


class _HookInput(Schema):
    target_url = TargetUrl(
        metadata={"description": "Where deliveries are POSTed. Also accepted as `hookUrl` or `url`."}
    )
    events = fields.List(
        EventType(),
        validate=validate.Length(min=1, max=MAX_EVENTS),
        metadata={
            "description": "Event types (`subscribers.update`, `subscribers.trackchanges`, `collection.*`, ...). "
            "A single `event` string, or a comma-separated string, is accepted too."
        },
    )
    description = fields.String(allow_none=True, validate=validate.Length(max=1000))
    metadata = fields.Dict(keys=fields.String(), allow_none=True)


class HookCreateSchema(_HookInput):
    target_url = TargetUrl(
        required=True,
        error_messages={"required": "the target URL is required ('target_url', 'hookUrl' or 'url')"},
        metadata=_HookInput._declared_fields["target_url"].metadata,
    )
    events = fields.List(
        EventType(),
        required=True,
        error_messages={"required": "at least one event type is required ('event' or 'events')"},
        validate=validate.Length(min=1, max=MAX_EVENTS),
        metadata=_HookInput._declared_fields["events"].metadata,
    )
    tenant = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Admin keys only: the tenant to subscribe for (default: the key's own)."},
    )
    expires_in = fields.Integer(
        strict=True,
        validate=validate.Range(
            min=MIN_EXPIRES_IN,
            max=MAX_EXPIRES_IN,
            error=f"seconds between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN} (one day)",
        ),
        metadata={
            "description": f"A short-lived subscription (e.g. a test listener): removed by the connector "
            f"this many seconds after it was made ({MIN_EXPIRES_IN} to {MAX_EXPIRES_IN})."
        },
    )

    @pre_load
    def _aliases(self, data: Any, **_: Any) -> Any:
        return _merge_aliases(data)


class HookUpdateSchema(_HookInput):
    status = fields.String(validate=validate.OneOf(STATUSES))

    @pre_load
    def _aliases(self, data: Any, **_: Any) -> Any:
        return _merge_aliases(data)

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("nothing to change: give target_url, events, status, description or metadata")


class HookSchema(Schema):
    id = fields.String(required=True)
    tenant = fields.Function(lambda sub: sub.tenant.name, metadata={"description": "The owning tenant's name."})
    events = fields.List(fields.String(), required=True)
    target_url = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "`active` or `disabled`."})
    disabled_reason = fields.String(allow_none=True, metadata={"description": "`gone`, `failing`, `manual`, ..."})
    description = fields.String(allow_none=True)
    metadata = fields.Dict(attribute="metadata_", allow_none=True)
    created_via = fields.String(metadata={"description": "`api` (REST hooks), `plugin` (plugin API) or `console`."})
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    previous_secret_expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "Until when the previous secret still signs deliveries."}
    )
    secret_rotated_at = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "When the secret was last rotated (null: never). A client holding a secret "
            "it got before this time holds the previous one."
        },
    )
    expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "When a short-lived subscription is removed (null: never)."}
    )


class HookWithSecretSchema(HookSchema):
    secret = fields.String(
        required=True, metadata={"description": "The `whsec_` signing secret; returned only here, never by GET."}
    )


def encode_cursor(created_at: datetime, subscription_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), subscription_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class PageCursor(fields.Field):
    """An opaque page position made by :func:`encode_cursor`, loaded as a storage ``Cursor``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metadata = {"type": "string", **self.metadata}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Cursor:
        if not isinstance(value, str):
            raise ValidationError("not a cursor returned by this API")
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            created_at, subscription_id = json.loads(raw)
            parsed = datetime.fromisoformat(created_at)
            if parsed.tzinfo is None or not isinstance(subscription_id, str):
                raise ValueError("incomplete cursor")
            parsed = parsed.astimezone(UTC)
        except (ValueError, TypeError, OverflowError, binascii.Error):
            raise ValidationError("not a cursor returned by this API") from None
        return Cursor(parsed, subscription_id)


class HookListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = PageCursor(metadata={"description": "`next_cursor` of the previous page."})
    event = fields.String(metadata={"description": "Only subscriptions to exactly this event type."})
    target_url = fields.String(
        validate=validate.Length(min=1, max=MAX_URL_LENGTH),
        metadata={"description": "Only subscriptions posting to exactly this URL."},
    )


class HookListSchema(Schema):
    data = fields.List(fields.Nested(HookSchema), required=True)
    next_cursor = fields.String(
        allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."}
    )


class SamplesQuerySchema(Schema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=MAX_PAGE))


class EventTypeSchema(Schema):
    type = fields.String(required=True)
    key = fields.String()
    module = fields.String()
    action = fields.String()
    group = fields.String()
    kind = fields.String(
        metadata={"description": "`event`, `group` (trackchanges), `module` (`<module>.*`) or `all` (`*`)."}
    )
    title = fields.String()
    noun = fields.String()
    description = fields.String()
    fired_by_billrun = fields.Boolean()
    important = fields.Boolean()
    expands_to = fields.List(fields.String(), allow_none=True)
    action_pattern = fields.String(
        allow_none=True, metadata={"description": "`collection.*`: what a custom step name may be."}
    )
    billrun_source = fields.List(
        fields.String(), metadata={"description": "BillRun source files that fire it (BillRun/system)."}
    )
    never_fired_because = fields.String(allow_none=True)


class EventTypeListSchema(Schema):
    data = fields.List(fields.Nested(EventTypeSchema), required=True)


class EventTypeDetailSchema(EventTypeSchema):
    schema = fields.Dict(metadata={"description": "The JSON Schema of the delivery envelope."})
    samples = fields.List(fields.Dict())


class EnvelopeSchema(Schema):
    class Meta:
        unknown = INCLUDE

    id = fields.String(required=True)
    type = fields.String(required=True)
    timestamp = fields.String(required=True)
    data = fields.Dict(required=True)


class _TenantSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class _KeySchema(Schema):
    id = fields.String()
    label = fields.String()
    admin = fields.Boolean()


class MeSchema(Schema):
    tenant = fields.Nested(_TenantSchema)
    key = fields.Nested(_KeySchema)


class PluginWebhookSchema(Schema):
    webhook_module = fields.String(required=True)
    webhook_action = fields.String(required=True)
    webhook_url = fields.String(required=True)
    webhook_id = fields.String(required=True)
    webhook_events = fields.List(fields.String(), metadata={"description": "Every subscribed event type."})
    webhook_status = fields.String(metadata={"description": "`active` or `disabled`."})
    webhook_secret = fields.String(metadata={"description": "The signing secret; only in the answer of create."})


class PluginAnswerSchema(Schema):
    status = fields.Integer(required=True, metadata={"description": "1 on success, 0 on failure."})
    webhook = fields.Nested(PluginWebhookSchema, metadata={"description": "create, read, update."})
    webhooks = fields.List(fields.Nested(PluginWebhookSchema), metadata={"description": "list."})
    webhook_id = fields.String(metadata={"description": "delete."})
    message = fields.String(metadata={"description": "Why it failed (status 0)."})
    code = fields.Integer(metadata={"description": "17574 when the API key is missing or wrong (HTTP 401)."})


class _ErrorBodySchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per field."},
    )


class ErrorSchema(Schema):
    error = fields.Nested(_ErrorBodySchema, required=True)
