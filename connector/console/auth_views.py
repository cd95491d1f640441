"""Sign in with an API key, sign out, and an admin key's tenant switch."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from connector.api import context
from connector.console import forms, signin
from connector.console.blueprint import bp
from connector.services import tenants as tenant_service
from connector.storage import tenants

MAX_KEY = 200


@bp.get("/sign-in")
def sign_in_form() -> str:
    return render_template("console/sign_in.html")


@bp.post("/sign-in")
def sign_in() -> Response | tuple[str, int]:
    plaintext = request.form.get("api_key", "").strip()
    key = None
    if plaintext and len(plaintext) <= MAX_KEY:
        with context.session() as session:
            key = tenants.find_active_key(session, plaintext)
    if key is None:
        problem = "Paste an API key." if not plaintext else "That API key is not valid (unknown or revoked)."
        return render_template("console/sign_in.html", problem=problem), 401
    signin.sign_in(key)
    return redirect(url_for("console.overview"), 303)  # type: ignore[return-value]


@bp.post("/sign-out")
def sign_out() -> Response:
    signin.sign_out()
    flash("Signed out.", "info")
    return redirect(url_for("console.sign_in_form"), 303)  # type: ignore[return-value]


@bp.post("/tenant")
def switch_tenant() -> Response:
    """An admin key works in another tenant from now on."""
    values = forms.form(forms.TenantSwitchForm())
    with context.session() as session:
        principal = tenant_service.switch(session, signin.current(), values["tenant_id"])
    signin.work_in(principal.tenant_id)
    flash(f"Working in tenant {principal.tenant_name!r}.", "info")
    return redirect(url_for("console.overview"), 303)  # type: ignore[return-value]
