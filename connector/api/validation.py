"""Checks shared by the plugin API and the REST hooks API: target URLs and event type names."""

from __future__ import annotations

from connector.catalog import get_catalog
from connector.config import Settings
from connector.delivery.netguard import NetGuard, TargetRefused
from connector.delivery.targets import InvalidTarget

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
    """Return *url* stripped if it is a target the sender would connect to (see ``parse_target``)."""
    url = url.strip()
    try:
        NetGuard(settings.allowed_networks).check_url(url)
    except InvalidTarget as exc:
        raise InvalidTargetUrl(str(exc)) from None
    except TargetRefused as exc:
        raise InvalidTargetUrl(f"the target URL is refused: {exc}") from None
    return url
