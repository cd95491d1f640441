"""BillRun-compatible plugin API: ``/plugins/webhooks/{create,read,update,delete,list}[/<id>]``.

It behaves like BillRun's webhooks plugin where clients depend on it: any HTTP method, parameters
from the query string, a form body or JSON, a case-insensitive action, ``webhook__url`` as an alias of
``webhook_url`` on update, and answers ``{"status": 1, ...}`` / ``{"status": 0, "message": ...}``
with HTTP 200 (401 without a valid key, 404 for an unknown action, as BillRun).
Unlike BillRun it validates module, action and URL against the catalog, and ``list`` is an extension.
Subscriptions made here are the same rows as those of the REST hooks API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.orm import Session

from connector import ids, jsonlimits
from connector.api import context
from connector.api.auth import AuthError, authenticate
from connector.api.schemas import PluginAnswerSchema
from connector.api.validation import InvalidTargetUrl, UnknownEventType, validate_event_type, validate_target_url
from connector.catalog import ALL, get_catalog
from connector.services import subscriptions as services
from connector.services.errors import ServiceError
from connector.services.principal import Principal
from connector.storage.models import Subscription
from connector.storage.subscriptions import Cursor

blp = Blueprint("plugin", __name__, url_prefix="/plugins/webhooks")

ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]
NO_LOGIN_CODE = 17574  # BillRun's error code for an unauthenticated plugin API call


class PluginFailure(Exception):
    """A request the plugin answers with ``{"status": 0, "message": ...}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _params() -> dict[str, str]:
    """Query string, then the form or JSON body (the body wins, as in BillRun where POST precedes GET)."""
    params: dict[str, str] = dict(request.args.items())
    if request.form:
        params.update(request.form.items())
    elif request.is_json:
        try:
            body = jsonlimits.loads(request.get_data(cache=True))
        except jsonlimits.JsonRefused as exc:
            raise PluginFailure(f"the JSON body is refused: {exc}") from None
        if not isinstance(body, Mapping):
            raise PluginFailure("the JSON body must be an object")
        params.update({str(key): str(value) for key, value in body.items() if isinstance(value, (str, int, float))})
    return params


def _pair(event_name: str) -> tuple[str, str]:
    """The ``(webhook_module, webhook_action)`` of a subscribed name; ``*`` (every event) is ``(*, *)``."""
    if event_name == ALL:
        return ALL, ALL
    module, _, action = event_name.partition(".")
    return module, action


def webhook_object(subscription: Subscription) -> dict[str, Any]:
    """The plugin's ``webhook`` object (BillRun's four fields first, then this service's extras).

    ``webhook_id`` is the id the client chose at create, else the subscription's own id.
    """
    module, action = _pair(subscription.events[0])
    return {
        "webhook_module": module,
        "webhook_action": action,
        "webhook_url": subscription.target_url,
        "webhook_id": subscription.webhook_id or subscription.id,
        "webhook_events": subscription.events,
        "webhook_status": subscription.status,
    }


def _event_type(module: str | None, action: str | None) -> str:
    if not module:
        raise PluginFailure("webhook_module is required (e.g. subscribers)")
    if not action:
        raise PluginFailure("webhook_action is required (e.g. update)")
    catalog = get_catalog()
    if module == ALL:  # every event: webhook_module=* with webhook_action=*
        if action != ALL:
            raise PluginFailure(f"webhook_module '*' takes webhook_action '*' (every event), not {action!r}")
        return ALL
    name = catalog.type_for(module, action) or f"{module}.{action}"
    try:
        return validate_event_type(name)
    except UnknownEventType as exc:
        meant = _meant(module, action, exc.suggestion)
        modules = sorted(catalog.modules())
        if module.lower() not in {name.lower() for name in modules}:
            raise PluginFailure(
                f"unknown webhook_module {module!r};{meant} known modules: {', '.join(modules)}"
            ) from None
        actions = sorted(
            entry.action
            for entry in catalog.types()
            if entry.kind == "event" and entry.module.lower() == module.lower()
        )
        raise PluginFailure(
            f"unknown webhook_action {action!r} for module {module!r};{meant} known actions: {', '.join(actions)}"
        ) from None


def _meant(module: str, action: str, suggestion: str | None) -> str:
    """The catalog's suggestion in the plugin's words: the module, the action, or both, that differ."""
    parts = get_catalog().split(suggestion) if suggestion else None
    if parts is None:
        return ""
    changed = [
        f"webhook_{name}={value}"
        for name, value, given in (("module", parts[0], module), ("action", parts[1], action))
        if value != given
    ]
    return f" did you mean {' and '.join(changed)}?" if changed else ""


def _target_url(url: str | None) -> str:
    if not url:
        raise PluginFailure("webhook_url is required")
    try:
        return validate_target_url(url, context.settings())
    except InvalidTargetUrl as exc:
        raise PluginFailure(f"webhook_url: {exc}") from None


def _checked_id(value: str) -> str:
    if not ids.is_valid_id(value):
        raise PluginFailure(f"invalid webhook_id {value!r}: use 1 to 64 characters of A-Z, a-z, 0-9 and _")
    return value


def _id(path_id: str | None, params: Mapping[str, str]) -> str:
    """The webhook id of read, update and delete: the path segment, else the ``webhook_id`` parameter."""
    value = path_id or params.get("webhook_id")
    if not value:
        raise PluginFailure("a webhook id is required: /plugins/webhooks/<action>/<webhook_id>")
    return _checked_id(value)


def _owned(session: Session, principal: Principal, webhook_id: str) -> Subscription:
    try:
        return services.owned_webhook(session, principal, webhook_id)
    except ServiceError as exc:
        raise PluginFailure(exc.message) from None


def create(principal: Principal, params: Mapping[str, str], _path_id: str | None) -> dict[str, Any]:
    # As in BillRun, only the webhook_id parameter names the new webhook, never the path.
    webhook_id = _checked_id(params["webhook_id"]) if params.get("webhook_id") else None
    event_type = _event_type(params.get("webhook_module"), params.get("webhook_action"))
    url = _target_url(params.get("webhook_url"))
    with context.session() as session:
        try:
            subscription = services.subscribe(
                session, principal, events=[event_type], target_url=url, created_via="plugin", webhook_id=webhook_id
            )
        except ServiceError as exc:
            raise PluginFailure(exc.message) from None
        return {"status": 1, "webhook": {**webhook_object(subscription), "webhook_secret": subscription.secret}}


def read(principal: Principal, params: Mapping[str, str], path_id: str | None) -> dict[str, Any]:
    webhook_id = _id(path_id, params)
    with context.session() as session:
        return {"status": 1, "webhook": webhook_object(_owned(session, principal, webhook_id))}


def update(principal: Principal, params: Mapping[str, str], path_id: str | None) -> dict[str, Any]:
    webhook_id = _id(path_id, params)
    url = params.get("webhook_url") or params.get("webhook__url")
    module, action = params.get("webhook_module"), params.get("webhook_action")
    with context.session() as session:
        subscription = _owned(session, principal, webhook_id)
        events = None
        if module or action:
            current_module, current_action = _pair(subscription.events[0])
            events = [_event_type(module or current_module, action or current_action)]
        services.change(session, subscription, events=events, target_url=_target_url(url) if url is not None else None)
        return {"status": 1, "webhook": webhook_object(subscription)}


def delete(principal: Principal, params: Mapping[str, str], path_id: str | None) -> dict[str, Any]:
    webhook_id = _id(path_id, params)
    with context.session() as session:
        services.unsubscribe(session, _owned(session, principal, webhook_id))
    return {"status": 1, "webhook_id": webhook_id}


def list_(principal: Principal, params: Mapping[str, str], _path_id: str | None) -> dict[str, Any]:
    """Extension: every webhook of the tenant (every tenant for an admin key), optionally filtered."""
    module, action = params.get("webhook_module"), params.get("webhook_action")
    event_type = _event_type(module, action) if module or action else None
    with context.session() as session:
        rows: list[Subscription] = []
        more, after = True, None
        while more:  # bounded: each page advances the cursor through a finite table
            page, more = services.page(session, principal, limit=500, after=after, event_type=event_type)
            rows.extend(page)
            after = Cursor(page[-1].created_at, page[-1].id) if page else None
        return {"status": 1, "webhooks": [webhook_object(row) for row in rows]}


ACTIONS: dict[str, Callable[[Principal, Mapping[str, str], str | None], dict[str, Any]]] = {
    "create": create,
    "read": read,
    "update": update,
    "delete": delete,
    "list": list_,
}


PARAMETER_NAMES = ("webhook_module", "webhook_action", "webhook_url", "webhook__url", "webhook_id")
OPENAPI_PATH_PARAMETERS = (
    {
        "in": "path",
        "name": "action",
        "required": True,
        "description": "Case-insensitive.",
        "schema": {"type": "string", "enum": list(ACTIONS)},
    },
    {
        "in": "path",
        "name": "webhook_id",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,64}$"},
    },
)


def openapi_operations() -> dict[str, Any]:
    """OpenAPI operations of the plugin routes; GET and POST stand for every method."""
    form = {"type": "object", "properties": {name: {"type": "string"} for name in PARAMETER_NAMES}}
    answer = {"content": {"application/json": {"schema": PluginAnswerSchema}}}
    operation = {
        "tags": ["plugin"],
        "summary": "BillRun-compatible webhooks plugin API (any HTTP method)",
        "description": "Parameters from the query string, a form body or a JSON object body. "
        "Failures answer HTTP 200 with status 0 and a message, as BillRun does.",
        "parameters": [{"in": "query", "name": name, "schema": {"type": "string"}} for name in PARAMETER_NAMES],
        "requestBody": {
            "required": False,
            "content": {"application/x-www-form-urlencoded": {"schema": form}, "application/json": {"schema": form}},
        },
        "responses": {
            "200": {"description": "status 1 (done) or 0 (refused, with a message)", **answer},
            "401": {"description": "no or wrong API key", **answer},
            "404": {"description": "unknown action", **answer},
        },
    }
    without_body = {key: value for key, value in operation.items() if key != "requestBody"}
    return {"get": without_body, "post": operation}


def _answer(body: Mapping[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@blp.route("/<action>", methods=ANY_METHOD)
@blp.route("/<action>/<path:webhook_id>", methods=ANY_METHOD)
def dispatch(action: str, webhook_id: str | None = None) -> Response:
    handler = ACTIONS.get(action.lower())
    if handler is None:
        return _answer({"status": 0, "message": f"unknown action {action!r}; use one of {', '.join(ACTIONS)}"}, 404)
    context.declare_writes(handler not in (read, list_))  # any HTTP method may create, as in BillRun
    try:
        principal = authenticate()
    except AuthError as exc:
        return _answer({"status": 0, "code": NO_LOGIN_CODE, "message": exc.message, "display": exc.message}, 401)
    try:
        return _answer(handler(principal, _params(), webhook_id))
    except PluginFailure as exc:
        return _answer({"status": 0, "message": exc.message})
