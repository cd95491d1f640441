"""Checks shared by the plugin API and the REST hooks API: target URLs and event type names."""

from __future__ import annotations

from urllib.parse import urlsplit

from connector.catalog import get_catalog
from connector.config import Settings
from connector.delivery.netguard import NetGuard, TargetRefused

MAX_URL_LENGTH = 2048


class InvalidTargetUrl(ValueError):
    """The URL cannot be a webhook target; the message says why."""


class UnknownEventType(ValueError):
    """The name is not a subscribable event type of the catalog; the message says why."""


def validate_event_type(name: str) -> str:
    """Return *name* if the catalog lets one subscribe to it (a concrete type, a group or a family)."""
    catalog = get_catalog()
    if catalog.subscribable(name):
        return name
    module = name.split(".", 1)[0]
    modules = sorted({entry.module for entry in catalog.types()})
    if "." not in name:
        raise UnknownEventType(f"{name!r} is not an event type: use <module>.<action>, e.g. subscribers.update")
    if module not in modules:
        raise UnknownEventType(f"unknown event type {name!r}: no module {module!r} (modules: {', '.join(modules)})")
    raise UnknownEventType(f"unknown event type {name!r}; GET /api/v1/events lists them")


def validate_target_url(url: str, settings: Settings) -> str:
    """Return *url* stripped if it is an absolute http(s) URL with a host the SSRF guard accepts."""
    url = url.strip()
    if not url:
        raise InvalidTargetUrl("the target URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidTargetUrl(f"the target URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InvalidTargetUrl(f"the target URL is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidTargetUrl(f"the target URL must start with http:// or https://, not {url[:20]!r}")
    if not parts.hostname:
        raise InvalidTargetUrl("the target URL has no host")
    try:
        NetGuard(settings.allowed_networks).check_url(url)
    except TargetRefused as exc:
        raise InvalidTargetUrl(f"the target URL is refused: {exc}") from None
    return url
