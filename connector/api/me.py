"""``GET /api/v1/me``: who the key belongs to (the credential test of Zapier and n8n)."""

from __future__ import annotations

from typing import Any

from connector.api.auth import current_principal, require_api_key
from connector.api.parsing import Blueprint
from connector.api.schemas import MeSchema

blp = Blueprint("me", __name__, url_prefix="/api/v1", description="The caller's tenant and key.")
blp.before_request(require_api_key)


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """The tenant and the label of the API key used."""
    principal = current_principal()
    return {
        "tenant": {"id": principal.tenant_id, "name": principal.tenant_name},
        "key": {"id": principal.key_id, "label": principal.label, "admin": principal.admin},
    }
