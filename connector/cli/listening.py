"""The listening sockets of ``serve``: bound first, before the database or the worker start, so that a
busy port or a wrong address is one line that says what to change."""

from __future__ import annotations

import errno
import socket
from typing import Any

PORT_SEARCH = 100  # how far above a busy port a free one is looked for, to suggest it


Address = tuple[int, int, int, tuple[Any, ...]]  # family, type, proto, sockaddr


class ListenError(Exception):
    """The service cannot listen where it was asked to; the message names the fix."""


def bind(host: str, port: int) -> list[socket.socket]:
    """Bound (not yet listening) TCP sockets for every address *host* stands for, all on one port.

    Port 0 takes a free port. Waitress is given these sockets, so it listens exactly where they
    were bound. Raises :class:`ListenError` naming the fix.
    """
    try:
        addresses = _addresses(host, port)
    except OSError as exc:
        raise ListenError(
            f"cannot listen on {host!r}: {exc.strerror}; give an address of this machine with --host "
            "(127.0.0.1: this machine only; 0.0.0.0: every interface)"
        ) from None
    try:
        return _bind_all(addresses, port)
    except OSError as exc:
        raise ListenError(_why(exc, host, port, addresses)) from None


def _addresses(host: str, port: int) -> list[Address]:
    """``(family, type, proto, sockaddr)`` of each distinct address *host* stands for."""
    infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE)
    distinct = {
        (family, sockaddr[0]): (family, socktype, proto, sockaddr) for family, socktype, proto, _, sockaddr in infos
    }
    return list(distinct.values())


def _bind_all(addresses: list[Address], port: int) -> list[socket.socket]:
    """One socket bound per address, all on *port* (port 0: the one the first socket got); on an
    error every socket bound so far is closed and the error raised."""
    sockets: list[socket.socket] = []
    try:
        for family, socktype, proto, sockaddr in addresses:
            sock = socket.socket(family, socktype, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            chosen = sockets[0].getsockname()[1] if len(sockets) > 1 else port
            sock.bind((sockaddr[0], chosen, *sockaddr[2:]))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _why(error: OSError, host: str, port: int, addresses: list[Address]) -> str:
    if error.errno == errno.EADDRINUSE:
        free = _free_port_above(addresses, port)
        example = f"--port {free}" if free is not None else "--port N"
        return (
            f"port {port} on {host} is already in use (by another program, or a connector already running); "
            f"start on another port with --port, e.g. `./scripts/serve {example}` or `billrun-connector serve {example}`"
        )
    if error.errno == errno.EACCES:
        return (
            f"no permission to listen on port {port} of {host} (ports below 1024 need root); "
            "choose a port from 1024 up with --port, e.g. --port 8080"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine; choose one with --host "
            "(127.0.0.1: this machine only; 0.0.0.0: every interface)"
        )
    return f"cannot listen on {host} port {port}: {error.strerror}; change --host or --port"


def _free_port_above(addresses: list[Address], port: int) -> int | None:
    """A port above *port* free on every address now (another program may take it before it is used)."""
    for candidate in range(port + 1, min(port + PORT_SEARCH, 65535) + 1):
        try:
            sockets = _bind_all(addresses, candidate)
        except OSError:
            continue
        for sock in sockets:
            sock.close()
        return candidate
    return None
