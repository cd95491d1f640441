"""The SSRF guard: which addresses a delivery may connect to, checked again at connect time.

A target is refused when any address its host resolves to is loopback, private,
link-local, CGNAT, multicast, reserved, unspecified, a cloud metadata address or
otherwise not globally routable, IPv4 and IPv6 alike, including IPv6 forms that embed
an IPv4 address (v4-mapped, v4-compatible, 6to4, NAT64). Operators allow networks
explicitly (``BILLRUN_CONNECTOR_ALLOWED_NETWORKS``).

At connect time the guarded connection classes resolve the host once, check every
address and connect to an address that was checked, while the ``Host`` header and
TLS SNI keep the host name: a DNS answer that changes between the check and the
connect (rebinding) cannot reach an address that was not vetted. That check is the one
that protects; the subscribe-time check (:meth:`NetGuard.check_url`) only refuses early
what is known to be refused, and accepts a name that does not resolve at that moment.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from connector.delivery.targets import parse_target

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "168.63.129.16",  # Azure wire server (a public address)
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS IPv6 metadata
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
V4_COMPATIBLE = ipaddress.ip_network("::/96")
# RFC 6761 6.3: "localhost" and every name under it mean loopback; assumed when such a name does not resolve.
LOCALHOST_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


class TargetRefused(Exception):
    """A target URL or address the guard does not allow; the message says why."""


def parse_networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    """CIDR strings (or networks) to networks; a bad entry raises ``ValueError`` naming it."""
    networks = []
    for value in values:
        if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            networks.append(value)
            continue
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"not a network in CIDR notation: {text!r}") from exc
    return tuple(networks)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64 or (address in V4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _reason(address: IPAddress) -> str | None:
    """Why *address* is not a public unicast address, or None when it is one."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address in CGNAT:
        return "a carrier-grade NAT address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a globally routable address"
    return None


def allow_hint(address: IPAddress) -> str:
    """How an operator allows *address* as a target: the exact flag and environment variable."""
    network = ipaddress.ip_network(f"{address}/{address.max_prefixlen}")
    return (
        f"to allow it, run the connector (serve, and any worker) with --allow-network {network} "
        f"or BILLRUN_CONNECTOR_ALLOWED_NETWORKS={network}"
    )


def describe_allowed(networks: Iterable[str]) -> str:
    """The allowed target networks as start-up logs show them."""
    return ", ".join(networks) or "none (public addresses only; allow a network with --allow-network CIDR)"


class NetGuard:
    """Decides whether an address may be connected to, given the operator's allowed networks."""

    def __init__(self, allowed_networks: Iterable[str | IPNetwork] = ()) -> None:
        self.allowed_networks = parse_networks(allowed_networks)

    def _allowed(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.allowed_networks)

    def refusal(self, address: IPAddress | str) -> str | None:
        """Why *address* is refused (``127.0.0.1 is a loopback address``), or None when it may be connected to."""
        address = ipaddress.ip_address(address)
        refused_class = self.refused_class(address)
        return None if refused_class is None else f"{address} is {refused_class}"

    def refused_class(self, address: IPAddress) -> str | None:
        """The class of addresses that *address* is refused as (``a loopback address``), or None."""
        if isinstance(address, ipaddress.IPv6Address):
            if address.scope_id:
                address = ipaddress.IPv6Address(address.compressed.split("%", 1)[0])
            embedded = _embedded_ipv4(address)
            if embedded is not None:
                if self._allowed(address):
                    return None
                inner = self.refused_class(embedded)
                return None if inner is None else f"an IPv6 address embedding {embedded}, {inner}"
        if self._allowed(address):
            return None
        return _reason(address)

    def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """``getaddrinfo`` results for *host*, all checked; raises TargetRefused if any is refused.

        Every address must pass (not only the first): a name that mixes public and
        internal answers is refused as a whole.
        """
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            refused_class = self.refused_class(address)
            if refused_class is not None:
                named = str(address) == host.strip("[]")
                what = f"{address} is {refused_class}" if named else f"{host} resolves to {address}, {refused_class}"
                raise TargetRefused(f"{what}; {allow_hint(address)}")
        return infos

    def check_url(self, url: str) -> None:
        """The subscribe-time check: refuse (``InvalidTarget``) a target URL that :func:`parse_target`
        refuses, and (``TargetRefused``) one whose host
        is, or resolves to, a refused address; a ``localhost`` name counts as loopback even unresolved.

        Any other host name that does not resolve now is accepted: a passing DNS failure must not
        break a Zap's or a workflow's activation, and every connection is checked again (``resolve``).
        """
        target = parse_target(url)
        try:
            self.resolve(target.host, target.port)
        except socket.gaierror as exc:
            name = target.host.rstrip(".")
            if name == "localhost" or name.endswith(".localhost"):
                for address in LOCALHOST_ADDRESSES:
                    refused_class = self.refused_class(address)
                    if refused_class is not None:
                        raise TargetRefused(
                            f"{target.host} is a localhost name: it means {address}, {refused_class}; {allow_hint(address)}"
                        ) from None
            log.info(
                "target host %s does not resolve now (%s): accepted, checked again at connect time",
                target.host,
                exc.strerror,
            )


_tracked = threading.local()


@contextmanager
def tracked_connections() -> Iterator[list[Any]]:
    """Collect the guarded connections the current thread sends requests on inside the block.

    The sender uses this to cut an attempt's connection when its total time is up.
    """
    connections: list[Any] = []
    _tracked.connections = connections
    try:
        yield connections
    finally:
        _tracked.connections = None


class _GuardedConnectionMixin:
    """Resolves, checks and connects to a checked address; Host and SNI keep the name."""

    guard: NetGuard

    def request(self, *args: Any, **kwargs: Any) -> None:
        connections = getattr(_tracked, "connections", None)
        if connections is not None:
            connections.append(self)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        try:
            infos = self.guard.resolve(conn._dns_host, conn.port)
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        last_error: OSError | None = None
        for _family, _type, _proto, _name, sockaddr in infos:
            try:
                sock = urllib3_connection.create_connection(
                    (sockaddr[0], conn.port),
                    conn.timeout,
                    source_address=conn.source_address,
                    socket_options=conn.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
                continue
            return sock
        raise NewConnectionError(conn, f"Failed to establish a new connection: {last_error}")


def _guarded_pool_classes(guard: NetGuard) -> dict[str, type[HTTPConnectionPool]]:
    """urllib3 connection pool classes (by scheme) whose every connection goes through *guard*."""
    http_conn = type("GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), {"guard": guard})
    https_conn = type("GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), {"guard": guard})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


def guarded_pool_manager(guard: NetGuard, pool_maxsize: int = 10, **kwargs: Any) -> PoolManager:
    """A urllib3 pool manager whose every connection goes through *guard*; it reads no proxy settings.

    A connection stays open between requests (keep-alive): it was checked when it connected,
    and it stays connected to that checked address.
    """
    manager = PoolManager(maxsize=pool_maxsize, **kwargs)
    manager.pool_classes_by_scheme = _guarded_pool_classes(guard)  # type: ignore[assignment]
    return manager
