"""Access: ingest URLs (create with the BillRun registration commands, list, revoke) and API keys
(create, shown once; list; revoke). Revoking the key a session signed in with ends that session."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, request, url_for

from connector.api import context
from connector.console import forms, signin
from connector.console.blueprint import bp
from connector.console.pages import page
from connector.services import ingest_urls as ingest_url_service
from connector.services import keys as key_service
from connector.services.ingest_urls import registration, registration_commands

EXAMPLE_PAIR = ("subscribers", "update")


def _default_base_url() -> str:
    return context.settings().base_url or request.host_url.rstrip("/")


def _ingest_page(session: Any, status: int = 200, **values: Any) -> tuple[str, int]:
    principal = signin.current()
    return page(
        "console/ingest_urls.html",
        status,
        rows=ingest_url_service.listing(session, principal, principal.tenant_id),
        base_url=_default_base_url(),
        **values,
    )


@bp.get("/ingest-urls")
def ingest_urls() -> tuple[str, int]:
    with context.session() as session:
        return _ingest_page(session)


@bp.post("/ingest-urls")
def ingest_url_create() -> tuple[str, int]:
    values = forms.form(forms.IngestUrlCreateForm())
    with context.session() as session:
        principal = signin.current()
        made = ingest_url_service.create(
            session,
            principal,
            context.settings().secret_key,
            base_url=values["base_url"],
            tenant=principal.tenant_name,
            source=values["source"],
        )
        wanted = registration(context.runtime().catalog, session, principal.tenant_id)
        commands = registration_commands(made.url, wanted.pairs or [EXAMPLE_PAIR], wanted.billrun_url)
        return _ingest_page(session, 201, made=made, commands=commands, example=not wanted.pairs)


@bp.post("/ingest-urls/<token_id>/revoke")
def ingest_url_revoke(token_id: str) -> Response:
    with context.session() as session:
        row = ingest_url_service.revoke(session, signin.current(), context.settings().secret_key, token_id)
        revoked = row.id
    flash(f"Ingest URL {revoked} revoked: BillRun's posts to it are refused (401).", "info")
    return redirect(url_for("console.ingest_urls"), 303)  # type: ignore[return-value]


def _keys_page(session: Any, status: int = 200, **values: Any) -> tuple[str, int]:
    principal = signin.current()
    rows = key_service.listing(session, principal, principal.tenant_name)
    return page("console/keys.html", status, rows=rows, **values)


@bp.get("/keys")
def keys() -> tuple[str, int]:
    with context.session() as session:
        return _keys_page(session)


@bp.post("/keys")
def key_create() -> tuple[str, int]:
    values = forms.form(forms.KeyCreateForm())
    with context.session() as session:
        principal = signin.current()
        key, plaintext = key_service.create(
            session, principal, tenant=principal.tenant_name, label=values["label"], admin=values["admin"]
        )
        return _keys_page(session, 201, made=key, plaintext=plaintext)


@bp.post("/keys/<key_id>/revoke")
def key_revoke(key_id: str) -> Response:
    with context.session() as session:
        principal = signin.current()
        key = key_service.revoke(session, principal, key_id)
        own, revoked = key.id == principal.key_id, key.id
    if own:
        signin.sign_out()
        flash("You revoked the key this session signed in with: sign in with another key.", "info")
        return redirect(url_for("console.sign_in_form"), 303)  # type: ignore[return-value]
    flash(f"Key {revoked} revoked: requests with it are refused from now on.", "info")
    return redirect(url_for("console.keys"), 303)  # type: ignore[return-value]
