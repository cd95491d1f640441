"""``GET /metrics``: Prometheus exposition (see :mod:`connector.metrics`)."""

from __future__ import annotations

from flask import Blueprint, Response

from connector.api import context
from connector.metrics import render

blp = Blueprint("metrics", __name__)


@blp.get("/metrics")
def metrics() -> Response:
    body, content_type = render(context.database())
    return Response(body, content_type=content_type)
