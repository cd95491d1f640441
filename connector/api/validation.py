"""Checks shared by the plugin API and the REST hooks API: target URLs and event type names."""

from __future__ import annotations

from connector.catalog import UnknownEventType, get_catalog
from connector.config import Settings
from connector.delivery.netguard import NetGuard, TargetRefused
from connector.delivery.targets import InvalidTarget


class InvalidTargetUrl(ValueError):
    """The URL cannot be a webhook target; the message says why."""


__all__ = [
    "InvalidTargetUrl",
    "UnknownEventType",
    "unknown_type_message",
    "validate_deliverable_type",
    "validate_event_type",
    "validate_target_url",
]


def validate_event_type(name: str) -> str:
    """*name* if one may subscribe to it: a type, a group, ``<module>.*``, ``*`` or a custom collection step.

    Raises :class:`UnknownEventType` with a "did you mean" suggestion otherwise.
    """
    return get_catalog().check_subscribable(name)


def validate_deliverable_type(name: str) -> str:
    """*name* if an event may carry it (a concrete type); :class:`UnknownEventType` otherwise."""
    return get_catalog().check_deliverable(name)


def unknown_type_message(error: UnknownEventType) -> str:
    """What the APIs answer for a name that is not an event type: the catalog's words, and where the list is."""
    return f"{error} (GET /api/v1/events lists them)"


def validate_target_url(url: str, settings: Settings) -> str:
    """Return *url* stripped if it is a target the sender would connect to (see ``parse_target``)."""
    url = url.strip()
    try:
        NetGuard(settings.allowed_networks).check_url(url)
    except InvalidTarget as exc:
        raise InvalidTargetUrl(str(exc)) from None
    except TargetRefused as exc:
        raise InvalidTargetUrl(f"the target URL is refused: {exc}") from None
    return url
