"""Where the service listens, as a URL, and where ``ingest-url`` takes its default base URL from.

``serve`` on a SQLite database writes its URL beside the file (``<file>.server-url``, as the secret
key is kept in ``<file>.secret-key``) and removes it when it stops, so that ``ingest-url`` run
from anywhere on the same database makes URLs for the port the service really listens on.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from pathlib import Path

from connector.config import Settings, sqlite_path

SERVER_URL_SUFFIX = ".server-url"

log = logging.getLogger(__name__)


def listen_url(address: str, port: int) -> str:
    """``http://address:port`` for a listening socket's address, IPv6 in brackets."""
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


def base_url(host: str, port: int) -> str:
    """``http://host:port`` for a person or a program on this machine: IPv6 in brackets, and the
    loopback address for a wildcard listen address (0.0.0.0, ::), which no client can connect to."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    return listen_url(str(address), port)


def _record_file(settings: Settings) -> Path | None:
    path = sqlite_path(settings.database_url)
    return None if path is None else path.with_name(path.name + SERVER_URL_SUFFIX)


def record(settings: Settings, url: str) -> None:
    """Note that a service on this database listens at *url* (SQLite only; a folder that cannot be
    written costs only the note: ``ingest-url`` then falls back to the settings)."""
    path = _record_file(settings)
    if path is None:
        return
    try:
        path.write_text(url + "\n", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot note the service's URL in %s (%s): ingest-url will not know the port", path, exc.strerror)


def forget(settings: Settings, url: str) -> None:
    """Remove the note of *url*, unless another service has written its own since."""
    path = _record_file(settings)
    if path is not None and recorded(settings) == url:
        with contextlib.suppress(OSError):
            path.unlink()


def recorded(settings: Settings) -> str | None:
    """The URL a running ``serve`` on this database noted, if any."""
    path = _record_file(settings)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def ingest_base_url(settings: Settings) -> tuple[str, str]:
    """The base URL of new ingest URLs and where it comes from, in words for the command's output.

    ``--base-url`` or ``BILLRUN_CONNECTOR_BASE_URL`` first (the address BillRun reaches); else the
    URL a running ``serve`` on this database noted; else ``http://HOST:PORT`` from the settings.
    """
    if settings.base_url:
        return settings.base_url, "--base-url or BILLRUN_CONNECTOR_BASE_URL"
    running = recorded(settings)
    if running is not None:
        return running, "where `billrun-connector serve` on this database listens"
    return base_url(
        settings.host, settings.port
    ), "BILLRUN_CONNECTOR_HOST and BILLRUN_CONNECTOR_PORT, or their defaults"
