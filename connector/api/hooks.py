"""REST hooks API (``/api/v1/hooks``): what the Zapier app and the n8n node subscribe through."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from connector.api import context
from connector.api.auth import current_principal, require_api_key
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
from connector.services import subscriptions as services
from connector.storage.models import Subscription

blp = Blueprint(
    "hooks",
    __name__,
    url_prefix="/api/v1/hooks",
    description="Subscriptions (REST hooks). Each subscription is its own row: none are ever merged.",
)
blp.before_request(require_api_key)


@blp.route("")
class Hooks(MethodView):
    @blp.arguments(HookListQuerySchema, location="query")
    @blp.response(200, HookListSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List subscriptions, oldest first, a page at a time.

        Pagination is by cursor: `limit` (1-100, default 50) rows per page; pass the `next_cursor` of
        one page as `cursor` to get the next. `next_cursor` is null on the last page.
        """
        with context.session() as session:
            page, more = services.page(
                session,
                current_principal(),
                limit=query["limit"],
                after=query.get("cursor"),
                event_type=query.get("event"),
                target_url=query["target_url"].strip() if "target_url" in query else None,
            )
            return {"data": page, "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None}

    @blp.arguments(HookCreateSchema)
    @blp.response(201, HookWithSecretSchema)
    def post(self, body: dict[str, Any]) -> Subscription:
        """Subscribe a target URL to one or more event types.

        The answer carries the subscription's `id` (to unsubscribe) and its signing `secret`.
        """
        with context.session() as session:
            return services.subscribe(
                session,
                current_principal(),
                events=body["events"],
                target_url=body["target_url"],
                tenant=body.get("tenant"),
                description=body.get("description"),
                metadata=body.get("metadata"),
                expires_in=body.get("expires_in"),
            )


@blp.route("/<subscription_id>")
class Hook(MethodView):
    @blp.response(200, HookSchema)
    def get(self, subscription_id: str) -> Subscription:
        """Read one subscription (without its secret); 410 when it was removed."""
        with context.session() as session:
            return services.owned(session, current_principal(), subscription_id)

    @blp.arguments(HookUpdateSchema)
    @blp.response(200, HookSchema)
    def patch(self, body: dict[str, Any], subscription_id: str) -> Subscription:
        """Change the event types, target URL, status (`active`/`disabled`), description or metadata."""
        with context.session() as session:
            return services.change(
                session,
                services.owned(session, current_principal(), subscription_id),
                events=body.get("events"),
                target_url=body.get("target_url"),
                status=body.get("status"),
                changes={name: body[name] for name in ("description", "metadata") if name in body},
            )

    @blp.response(204)
    def delete(self, subscription_id: str) -> None:
        """Delete exactly this subscription.

        410 when it was this tenant's and is already gone (unsubscribed, expired); 404 when this key
        cannot see it (another tenant's, or never made).
        """
        with context.session() as session:
            services.unsubscribe(session, services.owned(session, current_principal(), subscription_id))


@blp.route("/<subscription_id>/rotate-secret", methods=["POST"])
@blp.response(200, HookWithSecretSchema)
def rotate_secret(subscription_id: str) -> Subscription:
    """Give the subscription a new secret.

    The previous secret stays valid for the rotation grace period (24 h by default): until
    `previous_secret_expires_at`, deliveries carry signatures made with both.
    """
    with context.session() as session:
        subscription = services.owned(session, current_principal(), subscription_id)
        return services.rotate_secret(context.runtime(), session, subscription)
