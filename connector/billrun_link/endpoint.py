"""The BillRun URL an operator configured, and the HTTP session the link talks to it with.

The SSRF guard of delivery targets does not apply to this URL: targets are chosen by tenants'
integrations, while the BillRun URL is set by the operator (``billrun connect``) or an admin key, and
a BillRun on a private network or on this machine is the usual case. What is refused is refused
loudly, never silently: a URL that is not http(s) or has no host, and a host that resolves to a cloud
metadata address (no BillRun lives there) unless the operator allowed that network. The resolved
addresses are reported at connect. Redirects are never followed (an answer 3xx is an error naming
its Location), and proxy environment variables are ignored, as for deliveries.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests

from connector import __version__
from connector.billrun_link.errors import RefusedUrl
from connector.delivery.netguard import METADATA_ADDRESSES, parse_networks

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
USER_AGENT = f"billrun-connector/{__version__} (billrun link)"


def normalize_url(url: str) -> str:
    """The BillRun base URL without a trailing slash; raises :class:`RefusedUrl` when unusable."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise RefusedUrl(f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedUrl(f"the BillRun URL must be http(s)://host[:port][/path], not {url!r}")
    if parts.query or parts.fragment:
        raise RefusedUrl("the BillRun URL must not carry a query or a fragment")
    return text


def resolve(url: str, allowed_networks: Iterable[str] = ()) -> list[str]:
    """The addresses the BillRun host resolves to; refuses cloud metadata addresses unless allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise RefusedUrl(f"the BillRun host {host!r} does not resolve: {exc.strerror}") from None
    networks = parse_networks(allowed_networks)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if address in METADATA_ADDRESSES and not any(
            address in net for net in networks if net.version == address.version
        ):
            raise RefusedUrl(f"the BillRun host {host!r} resolves to {address}, a cloud metadata address")
    return addresses


def describe_addresses(addresses: Iterable[str]) -> str:
    """``127.0.0.1 (loopback)``-style text for the connect report."""
    described = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        kind = "loopback" if address.is_loopback else "private" if address.is_private else "public"
        described.append(f"{text} ({kind})")
    return ", ".join(described)


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    return session


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The body as a JSON object whatever its Content-Type (BillRun's create says text/html), or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def reason(exc: requests.RequestException) -> str:
    """A short cause of a failed request: "timed out", "Connection refused", "connection closed"..."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    seen: list[BaseException] = [exc]
    visited: set[int] = set()
    while seen:
        cause = seen.pop()
        if id(cause) in visited:
            continue
        visited.add(id(cause))
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        if type(cause).__name__ == "RemoteDisconnected":
            return "connection closed without an answer"
        seen.extend(
            c
            for c in (cause.__cause__, cause.__context__, getattr(cause, "reason", None))
            if isinstance(c, BaseException)
        )
        seen.extend(a for a in cause.args if isinstance(a, BaseException))
    return type(exc).__name__
