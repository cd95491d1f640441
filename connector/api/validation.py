"""Checks shared by the plugin API and the REST hooks API: target URLs and event type names."""

from __future__ import annotations

from urllib.parse import urlsplit

from connector.catalog import UnknownEventType, get_catalog
from connector.config import Settings
from connector.delivery.netguard import NetGuard, TargetRefused

MAX_URL_LENGTH = 2048


class InvalidTargetUrl(ValueError):
    """The URL cannot be a webhook target; the message says why."""


__all__ = ["InvalidTargetUrl", "UnknownEventType", "validate_event_type", "validate_target_url"]


def validate_event_type(name: str) -> str:
    """*name* if one may subscribe to it: a type, a group, ``<module>.*``, ``*`` or a custom collection step.

    Raises :class:`UnknownEventType` with a "did you mean" suggestion otherwise.
    """
    return get_catalog().check_subscribable(name)


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
