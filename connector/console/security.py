"""What keeps the console safe in a browser: the session cookie, CSRF tokens and response headers.

- The session is Flask's signed cookie (the app's secret key): HttpOnly, SameSite=Lax, Secure when
  the request came over HTTPS, and it names the API key that signed in, never the key itself.
- Every change is a POST with a CSRF token (Flask-WTF), checked before the view runs; the JSON APIs
  take no cookies, so only the console is checked.
- Pages carry a Content-Security-Policy that allows scripts, styles and images from the connector
  alone and no inline script, and are never cached.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from connector.api.context import SAFE_METHODS

SESSION_COOKIE = "billrun_console"
SESSION_LIFETIME = timedelta(hours=12)
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

csrf = CSRFProtect()


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over HTTPS (behind a
    proxy, the WSGI server must pass the scheme on, e.g. gunicorn's ``--forwarded-allow-ips``)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or bool(super().get_cookie_secure(app))


def install(app: Flask) -> None:
    """Configure the session cookie and CSRF protection of *app* (checked by the console only)."""
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_CHECK_DEFAULT=False,  # the console checks its own requests (check_csrf)
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as the session
    )
    app.session_interface = ConsoleSessionInterface()
    csrf.init_app(app)


def check_csrf() -> None:
    """Refuse a change without the session's CSRF token (400, ``CSRFError``)."""
    if request.method not in SAFE_METHODS:
        csrf.protect()


def add_page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response
