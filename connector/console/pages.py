"""Rendering console pages, and what every request to the console goes through first.

Before a view: the CSRF check of a change, then the sign-in check (the sign-in page and the static
files excepted). Error pages: a form that cannot be read is a 400 naming the field, a use case's
refusal its status (404 for what is another tenant's), a stale form a 400 that says to reload.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from connector import __version__
from connector.api import context
from connector.api.errors import service_status
from connector.console import signin
from connector.console.blueprint import bp
from connector.console.forms import FormInvalid
from connector.console.security import add_page_headers, check_csrf
from connector.services import tenants as tenant_service
from connector.services.errors import Invalid, ServiceError

log = logging.getLogger(__name__)

OPEN_ENDPOINTS = frozenset({"console.sign_in", "console.sign_in_form", "console.static"})


@bp.before_request
def _guard() -> None:
    check_csrf()
    if request.endpoint not in OPEN_ENDPOINTS:
        signin.current()


bp.after_request(add_page_headers)


DISABLED_REASONS = {
    "gone": "the endpoint answered 410 Gone",
    "failing": "it kept failing past the disable limit",
    "manual": "paused by an operator",
}


@bp.context_processor
def _globals() -> dict[str, Any]:
    return {"principal": signin.signed_in(), "version": __version__, "reasons": DISABLED_REASONS}


@bp.app_template_filter("without_cursor")
def _without_cursor(args: Any) -> dict[str, str]:
    """A page's query string without its cursor, for the link to the next page."""
    return {name: value for name, value in args.items() if name != "cursor"}


@bp.app_template_filter("when")
def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "–"


@bp.app_template_filter("pretty")
def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    """A console page; an admin key's pages carry the tenant switch."""
    principal = signin.current()
    tenants: Any = ()
    if principal.admin:
        tenants = tenant_service.switchable(context.request_session(), principal)
    return render_template(template, tenants=tenants, **values), status


def error_page(status: int, title: str, message: str, errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    return render_template(
        "console/error.html", status=status, title=title, message=message, errors=errors or {}
    ), status


@bp.errorhandler(signin.SignInRequired)
def _sign_in_required(exc: signin.SignInRequired) -> Response:
    if exc.reason:
        flash(exc.reason, "error")
    return redirect(url_for("console.sign_in_form"), 303)  # type: ignore[return-value]


@bp.errorhandler(FormInvalid)
def _form_invalid(exc: FormInvalid) -> tuple[str, int]:
    return error_page(400, "That cannot be used", "Some of what was sent cannot be used:", exc.errors)


@bp.errorhandler(ServiceError)
def _refused(exc: ServiceError) -> tuple[str, int]:
    # A value the use case cannot take came from a form field: a 400 page, as for any bad field.
    status = 400 if isinstance(exc, Invalid) else service_status(exc)
    titles = {400: "That cannot be used", 403: "Not allowed", 404: "Not found", 409: "Not now", 410: "Removed"}
    return error_page(status, titles.get(status, "Refused"), exc.message, exc.fields)


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError) -> tuple[str, int]:
    return error_page(
        400,
        "The form was refused",
        f"{exc.description} The form did not come from this console session, or the session changed "
        "since it was shown: go back, reload the page and try again.",
    )


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[str, int]:
    return error_page(exc.code or 500, exc.name, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[str, int]:
    log.exception("unhandled error in the console", exc_info=exc)
    error = InternalServerError()
    return error_page(500, error.name, "Something went wrong on the connector's side; its log says what.")
