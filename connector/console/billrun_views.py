"""BillRun: connect the tenant to its BillRun once, see what the connector keeps registered there,
reconcile now, disconnect. Admin keys only, as the admin API (``/api/v1/tenants/<tenant>/billrun``)
that shares these use cases; the client secret is write-only."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for

from connector.api import context
from connector.api.billrun_link_api import link_status, pass_view
from connector.billrun_link import service
from connector.console import forms, signin
from connector.console.blueprint import bp
from connector.console.pages import page
from connector.services.errors import Forbidden
from connector.services.principal import Principal


def _admin() -> Principal:
    principal = signin.current()
    if not principal.admin:
        raise Forbidden("only an admin key may manage BillRun connections")
    context.end_transaction()  # the link's use cases run their own short transactions around BillRun's calls
    return principal


def _connection(tenant: str) -> dict[str, Any] | None:
    try:
        return service.status(context.database(), context.settings(), tenant)
    except service.LinkError as exc:
        if exc.code == "not_connected":
            return None
        raise


def _page(principal: Principal, status: int = 200, **values: Any) -> tuple[str, int]:
    return page(
        "console/billrun.html",
        status,
        link=_connection(principal.tenant_name),
        default_base_url=context.settings().base_url or request.host_url.rstrip("/"),
        **values,
    )


@bp.get("/billrun")
def billrun() -> tuple[str, int]:
    return _page(_admin())


@bp.post("/billrun")
def billrun_connect() -> tuple[str, int]:
    principal = _admin()
    values = forms.form(forms.BillrunConnectForm())
    steps = [line.strip() for line in values["collection_steps"].splitlines() if line.strip()]
    wanted = service.ConnectRequest(
        principal.tenant_name,
        values["url"],
        values["client_id"],
        values["client_secret"],
        values.get("ingest_base_url"),
        steps,
    )
    typed = {name: value for name, value in values.items() if name != "client_secret"}  # never shown again
    try:
        report = service.connect(context.database(), context.settings(), wanted)
    except service.LinkError as exc:
        return _page(principal, link_status(exc), refusal=exc, typed=typed)
    done = f"Connected to BillRun at {report.url} ({report.addresses}); ingest URL {report.ingest_token_id}."
    return _page(principal, last_pass=pass_view(report.first_pass), done=done)


@bp.post("/billrun/sync")
def billrun_sync() -> tuple[str, int]:
    principal = _admin()
    try:
        result = service.sync(context.database(), context.settings(), principal.tenant_name)
    except service.LinkError as exc:
        return _page(principal, link_status(exc), refusal=exc)
    return _page(principal, last_pass=pass_view(result), done="Reconciled with BillRun.")


@bp.post("/billrun/disconnect")
def billrun_disconnect() -> Response | tuple[str, int]:
    principal = _admin()
    force = forms.form(forms.BillrunDisconnectForm())["force"]
    try:
        report = service.disconnect(context.database(), context.settings(), principal.tenant_name, force=force)
    except service.LinkError as exc:
        return _page(principal, link_status(exc, disconnecting=True), refusal=exc)
    flash(
        f"Removed {report.removed} webhook(s) from BillRun; tenant {principal.tenant_name!r} is disconnected.", "info"
    )
    if report.left_behind:
        flash("BillRun may still hold these webhooks, delete them there: " + ", ".join(report.left_behind), "error")
    return redirect(url_for("console.billrun"), 303)  # type: ignore[return-value]
