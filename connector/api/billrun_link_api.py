"""``/api/v1/tenants/<tenant>/billrun``: a tenant's BillRun connection, for admin keys.

``GET`` the status, ``PUT`` connect (or reconnect), ``DELETE`` disconnect, ``POST .../sync`` reconcile
now. The same operations as ``billrun-connector billrun ...``; the client secret is write-only.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from connector.api import context
from connector.api.auth import current_principal, require_api_key
from connector.api.errors import ApiError
from connector.api.parsing import Blueprint
from connector.billrun_link import service
from connector.billrun_link.reconcile import PassResult

blp = Blueprint(
    "billrun_link",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>/billrun",
    description="A tenant's BillRun connection: the connector keeps BillRun's webhooks in step (admin keys).",
)

_STATUS = {
    "invalid_input": 422,
    "bad_url": 422,
    "bad_credentials": 422,
    "not_billrun": 422,
    "plugin_not_enabled": 422,
    "permission_refused": 422,
    "billrun_unreachable": 422,
    "not_connected": 404,
    "conflict": 409,
    "busy": 409,
}


@blp.before_request
def _admin_only() -> None:
    require_api_key()
    if not current_principal().admin:
        raise ApiError(403, "forbidden", "only an admin key may manage BillRun connections")
    context.end_transaction()  # the link's use cases run their own short transactions around BillRun's calls


def link_status(exc: service.LinkError, *, disconnecting: bool = False) -> int:
    """The HTTP status of a refusal of the link (the admin API and the console answer alike): a
    disconnect BillRun cannot complete now is a conflict, the connection being kept."""
    if disconnecting and exc.code == "billrun_unreachable":
        return 409
    return _STATUS.get(exc.code, 422)


def _api_error(exc: service.LinkError, *, disconnecting: bool = False) -> ApiError:
    return ApiError(link_status(exc, disconnecting=disconnecting), exc.code, exc.message)


class ConnectSchema(Schema):
    url = fields.String(required=True, metadata={"description": "BillRun's base URL."})
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    client_secret = fields.String(required=True, load_only=True, validate=validate.Length(min=1))
    ingest_base_url = fields.String(
        load_default=None, metadata={"description": "The connector's address as BillRun reaches it."}
    )
    collection_steps = fields.List(
        fields.String(validate=validate.Length(min=1, max=service.MAX_STEP_LENGTH)),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "Custom collection step names (registered for collection.* and *)."},
    )


class RegistrationSchema(Schema):
    module = fields.String()
    action = fields.String()
    webhook_id = fields.String()
    status = fields.String(metadata={"description": "registered, pending, removing or failing"})
    attempts = fields.Integer()
    next_try_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    registered_at = fields.String(allow_none=True)


class PassSchema(Schema):
    ok = fields.Boolean()
    created = fields.List(fields.String())
    updated = fields.List(fields.String())
    deleted = fields.List(fields.String())
    lost = fields.List(fields.String())
    failed = fields.List(fields.Dict())
    error = fields.String(allow_none=True)


class StatusSchema(Schema):
    tenant = fields.String()
    url = fields.String()
    client_id = fields.String()
    ingest_base_url = fields.String()
    ingest_url_id = fields.String(allow_none=True)
    collection_steps = fields.List(fields.String())
    webhook_id_prefix = fields.String()
    connected_at = fields.String()
    last_sync_at = fields.String(allow_none=True)
    last_verified_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    disconnect_requested_at = fields.String(
        allow_none=True, metadata={"description": "Set while a disconnect waits for BillRun to remove the webhooks."}
    )
    checked_at = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    registrations = fields.List(fields.Nested(RegistrationSchema))
    last_pass = fields.Nested(PassSchema, metadata={"description": "What this request's pass did (PUT, sync)."})


def pass_view(result: PassResult) -> dict[str, Any]:
    def names(pairs: list[tuple[str, str]]) -> list[str]:
        return [f"{module}.{action}" for module, action in pairs]

    return {
        "ok": result.ok,
        "created": names(result.created),
        "updated": names(result.updated),
        "deleted": names(result.deleted),
        "lost": names(result.lost),
        "failed": [{"type": f"{module}.{action}", "error": error} for (module, action), error in result.failed],
        "error": result.error or ("another process is reconciling this connection" if result.busy else None),
    }


def _status(tenant: str, result: PassResult | None = None) -> dict[str, Any]:
    try:
        view = service.status(context.database(), context.settings(), tenant)
    except service.LinkError as exc:
        raise _api_error(exc) from None
    return view if result is None else view | {"last_pass": pass_view(result)}


@blp.route("")
class Connection(MethodView):
    @blp.response(200, StatusSchema)
    def get(self, tenant: str) -> dict[str, Any]:
        """The connection and each webhook the connector keeps in BillRun: registered, pending, removing, failing."""
        return _status(tenant)

    @blp.arguments(ConnectSchema)
    @blp.response(200, StatusSchema)
    def put(self, body: dict[str, Any], tenant: str) -> dict[str, Any]:
        """Connect (or reconnect) the tenant: proves the credentials and the plugin API before storing anything."""
        request = service.ConnectRequest(
            tenant,
            body["url"],
            body["client_id"],
            body["client_secret"],
            body["ingest_base_url"],
            body["collection_steps"],
        )
        try:
            report = service.connect(context.database(), context.settings(), request)
        except service.LinkError as exc:
            raise _api_error(exc) from None
        return _status(report.tenant, report.first_pass)

    @blp.arguments(Schema.from_dict({"force": fields.Boolean(load_default=False)})(), location="query")
    @blp.response(204)
    def delete(self, query: dict[str, Any], tenant: str) -> None:
        """Remove every webhook the connector made in BillRun, then forget the connection.

        409 when some could not be removed (BillRun unreachable): the connection is kept and retried;
        `?force=true` forgets it anyway.
        """
        try:
            service.disconnect(context.database(), context.settings(), tenant, force=query["force"])
        except service.LinkError as exc:
            raise _api_error(exc, disconnecting=True) from None


@blp.route("/sync", methods=["POST"])
@blp.response(200, StatusSchema)
def sync(tenant: str) -> dict[str, Any]:
    """Reconcile now: read back every registered webhook, then create, update and delete as needed."""
    try:
        result = service.sync(context.database(), context.settings(), tenant)
    except service.LinkError as exc:
        raise _api_error(exc) from None
    return _status(tenant, result)
