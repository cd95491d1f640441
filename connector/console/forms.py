"""Reading what a page sends: query filters and form fields, through marshmallow schemas.

The subscription form goes through the REST hooks API's own schema, so a target URL or an event name
is checked by the one rule both use. Whatever cannot be read is a :class:`FormInvalid` (a 400 page
naming each field and what is wrong with it), never a server error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import MultiDict

from connector.api.deliveries import DeliverableType, UtcDateTime
from connector.api.schemas import PageCursor
from connector.ids import ID_PATTERN
from connector.services.text import CONTROL
from connector.storage.deliveries import DELIVERY_STATUSES
from connector.storage.events import FANOUT_PENDING, QUARANTINED
from connector.storage.subscriptions import STATUSES

MAX_FIELD = 2000
PAGE_SIZE = 50
NOT_AN_ID = "not an id of this connector"


class FormInvalid(Exception):
    """What the page sent cannot be used; *errors* lists the problems per field."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {name: [str(message) for message in messages] for name, messages in errors.items()}
        summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in sorted(self.errors.items()))
        super().__init__(summary)
        self.message = summary


def flat(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages (``{"events": {0: [...]}}``) as one list per field."""
    if isinstance(messages, Mapping):
        merged: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = prefix or ("form" if key == "_schema" else str(key))
            for field, errors in flat(value, name).items():
                merged.setdefault(field, []).extend(errors)
        return merged
    if isinstance(messages, list):
        return {prefix or "form": [str(m) for m in messages]}
    return {prefix or "form": [str(messages)]}


def _checked(source: MultiDict[str, str], names: Iterable[str]) -> dict[str, Any]:
    """The named values that were sent and are not blank; a value with control characters is refused."""
    values: dict[str, Any] = {}
    for name in names:
        items = [item for item in source.getlist(name) if item.strip()]
        for item in items:
            if len(item) > MAX_FIELD:
                raise FormInvalid({name: [f"at most {MAX_FIELD} characters"]})
            if CONTROL.search(item):
                raise FormInvalid({name: ["control characters are not allowed"]})
        if items:
            values[name] = items if len(items) > 1 else items[0]
    return values


def load(schema: Schema, data: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise FormInvalid(flat(exc.messages)) from None


def query(schema: Schema) -> dict[str, Any]:
    """The page's query string read by *schema* (blank values are absent)."""
    return load(schema, _checked(request.args, schema.fields))


def form(schema: Schema, *, lists: Iterable[str] = ()) -> dict[str, Any]:
    """The posted form read by *schema*; the fields in *lists* are lists even with one value."""
    values = _checked(request.form, schema.fields)
    for name in lists:
        if name in values and not isinstance(values[name], list):
            values[name] = [values[name]]
    return load(schema, values)


def raw(names: Iterable[str]) -> dict[str, Any]:
    """Checked form values for a schema owned by another interface (the subscription form)."""
    return _checked(request.form, names)


class SubscriptionFilter(Schema):
    event = fields.String(validate=validate.Length(max=300))
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = fields.String(validate=validate.Length(max=300))
    cursor = PageCursor()


class DeliveryFilter(Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    type = fields.String(validate=validate.Length(max=300))
    subscription = fields.String(validate=validate.Regexp(ID_PATTERN, error=NOT_AN_ID))
    cursor = PageCursor()


class EventFilter(Schema):
    type = fields.String(validate=validate.Length(max=300))
    verdict = fields.String(validate=validate.OneOf(("valid", "invalid")))
    state = fields.String(validate=validate.OneOf((FANOUT_PENDING, QUARANTINED)))
    cursor = PageCursor()


class SamplesQuery(Schema):
    type = fields.String(validate=validate.Length(max=300))


class RecoverForm(Schema):
    subscription = fields.String(required=True, validate=validate.Regexp(ID_PATTERN, error=NOT_AN_ID))
    since = UtcDateTime(required=True)


class TestSendForm(Schema):
    type = DeliverableType()


class KeyCreateForm(Schema):
    label = fields.String(load_default="")
    admin = fields.Boolean(load_default=False)
    tenant = fields.String()


class IngestUrlCreateForm(Schema):
    source = fields.String(load_default="billrun")
    base_url = fields.String(required=True)
    tenant = fields.String()


class TenantSwitchForm(Schema):
    tenant_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=2**31 - 1))
