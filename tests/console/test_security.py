"""The console's defences: CSRF tokens on every change, the session cookie's flags, the
Content-Security-Policy, sign-out and revoked keys, secrets shown once only."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from flask import Flask

from connector.console.security import CONTENT_SECURITY_POLICY, SESSION_COOKIE
from connector.storage import tenants

from .conftest import Console, Key, database

PAGES = ("/", "/subscriptions", "/subscriptions/new", "/deliveries", "/events", "/samples", "/ingest-urls", "/keys")


def _subscribe(console: Console, events: Any = "subscribers.update") -> str:
    response = console.post("/subscriptions", {"target_url": "http://127.0.0.1:9/hook", "events": events})
    assert response.status_code == 201, response.get_data(as_text=True)
    return re.search(r"sub_\w+", response.get_data(as_text=True)).group(0)  # type: ignore[union-attr]


def test_a_change_without_the_session_token_is_refused(signed_in: Console, console_app: Flask) -> None:
    subscription = _subscribe(signed_in)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": signed_in.token + "x"}):
        response = signed_in.client.post(f"/subscriptions/{subscription}/delete", data=data)
        assert response.status_code == 400
        assert "The form was refused" in response.get_data(as_text=True)
    assert signed_in.get(f"/subscriptions/{subscription}").status_code == 200  # still there


def test_a_token_of_another_session_is_refused(console_app: Flask, acme: Key, signed_in: Console) -> None:
    subscription = _subscribe(signed_in)
    other = Console(console_app.test_client())
    other.sign_in(acme)
    response = signed_in.client.post(f"/subscriptions/{subscription}/delete", data={"csrf_token": other.token})
    assert response.status_code == 400


def test_signing_in_needs_the_token_too(console: Console, acme: Key) -> None:
    console.get("/sign-in")
    response = console.post("/sign-in", {"api_key": acme.key}, csrf=False)
    assert response.status_code == 400
    assert console.client.get("/").status_code == 303  # not signed in


def test_the_session_cookie_is_signed_http_only_same_site_and_names_no_key(console: Console, acme: Key) -> None:
    response = console.sign_in(acme)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    payload = cookie.split("=", 1)[1].split(".", 1)[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert acme.key_id in decoded and acme.key not in decoded and "brc_" not in decoded
    tampered = cookie.split(";", 1)[0].split("=", 1)[1][:-2] + "AA"
    console.client.set_cookie(SESSION_COOKIE, tampered)
    assert console.client.get("/").status_code == 303  # a forged cookie is no session


def test_the_session_cookie_is_secure_over_https(console_app: Flask, acme: Key) -> None:
    console = Console(console_app.test_client())
    console.get("/sign-in", base_url="https://connector.test")
    response = console.client.post(
        "/sign-in",
        data={"api_key": acme.key, "csrf_token": console.token},
        base_url="https://connector.test",
        headers={"Referer": "https://connector.test/sign-in"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("path", [*PAGES, "/sign-in"])
def test_pages_carry_the_content_security_policy_and_no_inline_script(signed_in: Console, path: str) -> None:
    response = signed_in.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\ssrc=)", html) == []  # every script is a file of the connector
    assert re.findall(r"\son[a-z]+\s*=", html) == []  # no inline event handlers
    assert re.findall(r"\sstyle\s*=", html) == []  # no inline styles either
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", html) == []  # nothing from elsewhere (no CDN)


def test_static_files_ship_in_the_package(signed_in: Console) -> None:
    for name in ("console.css", "console.js", "favicon.svg"):
        response = signed_in.client.get(f"/console/static/{name}")
        assert response.status_code == 200 and response.data, name


def test_signing_out_ends_the_session(signed_in: Console) -> None:
    response = signed_in.post("/sign-out")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert signed_in.client.get("/").status_code == 303
    assert "Signed out." in signed_in.text("/sign-in")


def test_a_revoked_key_ends_its_sessions(console_app: Flask, signed_in: Console, acme: Key) -> None:
    with database(console_app).session() as session:
        tenants.revoke_key(session, acme.key_id)
    response = signed_in.client.get("/subscriptions")
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert "was revoked" in signed_in.text("/sign-in")


def test_a_session_ends_after_its_lifetime(signed_in: Console) -> None:
    with signed_in.client.session_transaction() as session:
        session["signed_in_at"] = 1
    assert signed_in.client.get("/").status_code == 303


def test_a_wrong_key_is_refused_with_a_clear_page(console: Console) -> None:
    console.get("/sign-in")
    response = console.post("/sign-in", {"api_key": "brc_not_a_key"})
    assert response.status_code == 401
    assert "not valid (unknown or revoked)" in response.get_data(as_text=True)
    assert console.client.get("/").status_code == 303


def test_keys_and_secrets_are_shown_once(signed_in: Console) -> None:
    created = signed_in.post("/subscriptions", {"target_url": "http://127.0.0.1:9/hook", "events": "*"})
    page = created.get_data(as_text=True)
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page).group(0)  # type: ignore[union-attr]
    subscription = re.search(r"sub_\w+", page).group(0)  # type: ignore[union-attr]
    assert secret not in signed_in.text(f"/subscriptions/{subscription}")
    rotated = signed_in.post(f"/subscriptions/{subscription}/rotate-secret")
    new_secret = re.search(r"whsec_[A-Za-z0-9+/=]+", rotated.get_data(as_text=True)).group(0)  # type: ignore[union-attr]
    assert new_secret != secret and new_secret not in signed_in.text(f"/subscriptions/{subscription}")

    key_made = signed_in.post("/keys", {"label": "zapier"})
    plaintext = re.search(r"brc_[A-Za-z0-9]{40}", key_made.get_data(as_text=True)).group(0)  # type: ignore[union-attr]
    assert plaintext not in signed_in.text("/keys") and plaintext[:12] in signed_in.text("/keys")

    made = signed_in.post("/ingest-urls", {"base_url": "https://connector.test", "source": "billrun"})
    url = re.search(r"https://connector\.test/ingest/billrun/[\w.\-]+", made.get_data(as_text=True)).group(0)  # type: ignore[union-attr]
    assert url.rsplit("/", 1)[1] not in signed_in.text("/ingest-urls")
    assert all(response.headers["Cache-Control"] == "no-store" for response in (created, rotated, key_made, made))
