"""REST hooks API (``/api/v1/hooks``): what the Zapier app and the n8n node subscribe through."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy.orm import Session

from connector.api import context
from connector.api.auth import Principal, current_principal, require_api_key
from connector.api.errors import ApiError
from connector.api.parsing import Blueprint
from connector.api.schemas import (
    HookCreateSchema,
    HookListQuerySchema,
    HookListSchema,
    HookSchema,
    HookUpdateSchema,
    HookWithSecretSchema,
    encode_cursor,
)
from connector.storage import subscriptions, tenants
from connector.storage.models import Subscription

blp = Blueprint(
    "hooks",
    __name__,
    url_prefix="/api/v1/hooks",
    description="Subscriptions (REST hooks). Each subscription is its own row: none are ever merged.",
)
blp.before_request(require_api_key)


def not_found(subscription_id: str) -> ApiError:
    return ApiError(404, "not_found", f"no subscription {subscription_id!r}")


def load_owned(session: Session, principal: Principal, subscription_id: str) -> Subscription:
    """The subscription if the caller may see it; 404 otherwise, so existence does not leak."""
    subscription = subscriptions.get_subscription(session, subscription_id, principal.scope)
    if subscription is None:
        raise not_found(subscription_id)
    return subscription


def _target_tenant(session: Session, principal: Principal, name: str | None) -> int:
    if name is None or name == principal.tenant_name:
        return principal.tenant_id
    if not principal.admin:
        raise ApiError(403, "forbidden", "only an admin key may subscribe for another tenant")
    tenant = tenants.find_tenant(session, name)
    if tenant is None:
        raise ApiError(422, "validation_error", f"no tenant {name!r}", {"tenant": [f"no tenant {name!r}"]})
    return tenant.id


@blp.route("")
class Hooks(MethodView):
    @blp.arguments(HookListQuerySchema, location="query")
    @blp.response(200, HookListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List subscriptions, oldest first, a page at a time.

        Pagination is by cursor: `limit` (1-100, default 50) rows per page; pass the `next_cursor` of
        one page as `cursor` to get the next. `next_cursor` is null on the last page.
        """
        principal = current_principal()
        limit = query["limit"]
        with context.session() as session:
            rows = subscriptions.list_subscriptions(
                session, principal.scope, limit=limit + 1, after=query.get("cursor"), event_type=query.get("event")
            )
            page = rows[:limit]
            next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
            return {"data": page, "next_cursor": next_cursor}

    @blp.arguments(HookCreateSchema)
    @blp.response(201, HookWithSecretSchema)
    def post(self, body: dict[str, Any]) -> Subscription:
        """Subscribe a target URL to one or more event types.

        The answer carries the subscription's `id` (to unsubscribe) and its signing `secret`.
        """
        principal = current_principal()
        with context.session() as session:
            tenant_id = _target_tenant(session, principal, body.get("tenant"))
            subscription = subscriptions.create_subscription(
                session,
                tenant_id=tenant_id,
                events=body["events"],
                target_url=body["target_url"],
                description=body.get("description"),
                metadata=body.get("metadata"),
                created_via="api",
            )
            session.flush()
            session.refresh(subscription)
            return subscription


@blp.route("/<subscription_id>")
class Hook(MethodView):
    @blp.response(200, HookSchema)
    def get(self, subscription_id: str) -> Subscription:
        """Read one subscription (without its secret)."""
        with context.session() as session:
            return load_owned(session, current_principal(), subscription_id)

    @blp.arguments(HookUpdateSchema)
    @blp.response(200, HookSchema)
    def patch(self, body: dict[str, Any], subscription_id: str) -> Subscription:
        """Change the event types, target URL, status (`active`/`disabled`), description or metadata."""
        with context.session() as session:
            subscription = load_owned(session, current_principal(), subscription_id)
            subscriptions.update_subscription(
                subscription,
                events=body.get("events"),
                target_url=body.get("target_url"),
                status=body.get("status"),
                changes={name: body[name] for name in ("description", "metadata") if name in body},
            )
            session.flush()
            return subscription

    @blp.response(204)
    def delete(self, subscription_id: str) -> None:
        """Delete exactly this subscription (404 if it is unknown or another tenant's)."""
        with context.session() as session:
            if not subscriptions.delete_subscription(session, subscription_id, current_principal().scope):
                raise not_found(subscription_id)


@blp.route("/<subscription_id>/rotate-secret", methods=["POST"])
@blp.response(200, HookWithSecretSchema)
def rotate_secret(subscription_id: str) -> Subscription:
    """Give the subscription a new secret.

    The previous secret stays valid for the rotation grace period (24 h by default): until
    `previous_secret_expires_at`, deliveries carry signatures made with both.
    """
    grace = context.settings().rotation_grace_seconds
    with context.session() as session:
        subscription = load_owned(session, current_principal(), subscription_id)
        subscriptions.rotate_secret(subscription, grace)
        session.flush()
        return subscription
