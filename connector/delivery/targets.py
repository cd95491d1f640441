"""Target URLs: the one reading of a webhook target, shared by the subscribe-time check and the
sender, so that what would be refused when connecting is refused when subscribing.

urllib3 sends the deliveries, so its parser (``urllib3.util.parse_url``) reads targets here too.
Anything two URL parsers could read differently is refused outright rather than interpreted:
whitespace and control characters, backslashes, user info (``user@host``), percent-encoded host
names, IPv6 zone ids and IPv4 addresses written other than as four decimal numbers (``2130706433``,
``0x7f.1``, ``0177.0.0.1``, ``127.0.0.1.``), which some parsers read as addresses and others as names.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

MAX_URL_LENGTH = 2048
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\.?\Z){_LABEL}(?:\.{_LABEL})*\.?\Z")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG's "ends in a number": a host whose last label is decimal digits or 0x-hex is an IPv4 address.
_AUTHORITY_END = re.compile(r"[/?#]")  # the authority ends at the first of these (RFC 3986 3.2)
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_UNSAFE_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")  # \s is str.isspace()'s white space


class InvalidTarget(ValueError):
    """The URL cannot be a webhook target; the message says why."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # a host name or an IP address (IPv6 without brackets)
    port: int


@lru_cache(maxsize=1024)  # many targets share a host
def _host(raw: str) -> str:
    if raw.startswith("["):
        literal = raw[1:-1]
        if "%" in literal:
            raise InvalidTarget("the target URL's IPv6 address carries a zone id (%...); zone ids are not allowed")
        try:
            return str(ipaddress.IPv6Address(literal))
        except ValueError:
            raise InvalidTarget(f"the target URL's host {raw!r} is not an IPv6 address") from None
    if "%" in raw:
        raise InvalidTarget(f"the target URL's host {raw!r} is percent-encoded; write the host name plainly")
    try:
        ascii_host = raw.encode("idna").decode("ascii") if not raw.isascii() else raw
    except UnicodeError:
        raise InvalidTarget(f"the target URL's host {raw!r} is not a valid host name") from None
    if not _HOST_NAME.match(ascii_host):
        raise InvalidTarget(f"the target URL's host {raw!r} is not a valid host name")
    if _NUMERIC_LABEL.fullmatch(ascii_host.rstrip(".").rsplit(".", 1)[-1]):
        try:
            ipaddress.IPv4Address(ascii_host)
        except ValueError:
            raise InvalidTarget(
                f"the target URL's host {raw!r} is an IPv4 address in a form URL parsers read differently "
                "(a number, hex, octal, fewer than four parts or a trailing dot); write it as four decimal "
                "numbers, e.g. 203.0.113.7"
            ) from None
    return ascii_host.lower()


@lru_cache(maxsize=4096)
def parse_target(url: str) -> Target:
    """Read *url* as a delivery target; raises :class:`InvalidTarget` saying what is wrong.

    The sender reads a subscription's URL again at every attempt: readings are cached.
    """
    if not url:
        raise InvalidTarget("the target URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidTarget(f"the target URL is longer than {MAX_URL_LENGTH} characters")
    unsafe = _UNSAFE_CHAR.search(url)
    if unsafe is not None:
        raise InvalidTarget(
            f"the target URL contains whitespace or a control character at position {unsafe.start()}; "
            "percent-encode it (a space is %20)"
        )
    if "\\" in url:
        raise InvalidTarget("the target URL contains a backslash; use / in paths and percent-encode others (%5C)")
    try:
        parts = parse_url(url)
    except LocationParseError as exc:
        raise InvalidTarget(f"the target URL is not a valid URL ({exc})") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidTarget(f"the target URL must start with http:// or https://, not {url[:20]!r}")
    authority = _AUTHORITY_END.split(url.split("//", 1)[-1], maxsplit=1)[0]
    if parts.auth is not None or "@" in authority:
        raise InvalidTarget(
            "the target URL carries user info (user@host); credentials do not belong in a webhook URL: "
            "receivers check the signature instead"
        )
    if not parts.host:
        raise InvalidTarget("the target URL has no host")
    if "%" in authority and not authority.startswith("["):
        raise InvalidTarget(f"the target URL's host {authority!r} is percent-encoded; write the host name plainly")
    if parts.port == 0:
        raise InvalidTarget("the target URL's port is 0; give a port from 1 to 65535, or none")
    return Target(url=url, scheme=scheme, host=_host(parts.host), port=parts.port or _DEFAULT_PORTS[scheme])
