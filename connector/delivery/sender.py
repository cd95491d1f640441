"""The HTTP sender: one signed POST, no redirects, bounded time and a bounded response excerpt."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError

from connector import __version__
from connector.delivery.netguard import NetGuard, TargetRefused, guarded_pool_manager, tracked_connections
from connector.delivery.targets import InvalidTarget, parse_target

USER_AGENT = f"billrun-connector/{__version__}"
EXCERPT_BYTES = 20 * 1024
TARGET_POOLS = 100  # targets (scheme, host, port) whose idle connections are kept open


@dataclass(frozen=True)
class SendResult:
    """What one attempt got back: a status code or an error, never both missing."""

    status_code: int | None
    error: str | None
    excerpt: str
    duration_ms: int
    retry_after: str | None = None


class _Watchdog:
    """One thread that runs actions at their deadlines unless they were cancelled first.

    It checks every TICK seconds rather than waking for each attempt: arming and cancelling
    stay a heap push and a list clear on the hot path, at the cost of TICK of precision.
    """

    TICK = 0.1

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, list[Any]]] = []
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, action: Callable[[], None]) -> list[Any]:
        """Schedule *action* at *deadline* (monotonic); the returned handle cancels it when emptied."""
        handle: list[Any] = [action]
        with self._lock:
            heapq.heappush(self._heap, (deadline, next(self._counter), handle))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="delivery-watchdog", daemon=True)
                self._thread.start()
        return handle

    @staticmethod
    def cancel(handle: list[Any]) -> None:
        handle.clear()

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            due = []
            with self._lock:
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
            for handle in due:
                if handle:
                    with contextlib.suppress(OSError):
                        handle[0]()


_WATCHDOG = _Watchdog()


def _cut(connections: list[Any], expired: list[bool]) -> None:
    """Shut the attempt's sockets so that a blocked read returns now."""
    expired.append(True)
    for connection in list(connections):
        sock = getattr(connection, "sock", None)
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)


class Sender:
    """POSTs delivery bodies through a guarded, pooled urllib3 pool manager shared by the worker's threads.

    urllib3 directly rather than a requests session: a delivery needs none of a session's
    per-request work (cookies, proxies, auth, hooks, redirects), which cost more CPU than the
    POST itself. Connections are kept alive per target; certificates are checked against the
    same CA bundle requests uses.
    """

    def __init__(
        self,
        guard: NetGuard,
        *,
        connect_timeout: float = 5.0,
        timeout: float = 15.0,
        pool_size: int = 10,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._timeouts = urllib3.Timeout(connect=connect_timeout, read=timeout)
        self._pool = guarded_pool_manager(guard, pool_size, num_pools=TARGET_POOLS, ca_certs=DEFAULT_CA_BUNDLE_PATH)

    def close(self) -> None:
        self._pool.clear()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        """POST *body* to *url*; the whole attempt, connect to excerpt, ends at the total timeout.

        A watchdog shuts the attempt's socket at the deadline, so a target that answers slowly
        (even a byte at a time) cannot hold a worker thread, or outlive the delivery's lease.
        """
        try:
            parse_target(url)  # the reading the subscription was checked with
        except InvalidTarget as exc:
            return SendResult(None, f"refused: {exc}", "", 0)
        started = time.monotonic()
        deadline = started + self.timeout
        all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        expired: list[bool] = []
        with tracked_connections() as connections:
            watchdog = _WATCHDOG.arm(deadline, lambda: _cut(connections, expired))
            try:
                return self._send(url, body, all_headers, deadline, elapsed_ms, expired)
            finally:
                _WATCHDOG.cancel(watchdog)

    def _send(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        deadline: float,
        elapsed_ms: Callable[[], int],
        expired: list[bool],
    ) -> SendResult:
        timeout_error = f"timeout after {self.timeout:g} s"
        try:
            response = self._pool.request(
                "POST",
                url,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=self._timeouts,
            )
        except TargetRefused as exc:
            return SendResult(None, f"refused by the network guard: {exc}", "", elapsed_ms())
        except (HTTPError, OSError, ValueError) as exc:  # ValueError: a URL urllib3 cannot parse
            if isinstance(exc, ConnectTimeoutError) and not isinstance(exc, NewConnectionError):
                error = (
                    f"connect timeout after {self.connect_timeout:g} s"  # (urllib3 derives NewConnectionError from it)
                )
            elif expired or isinstance(exc, (ReadTimeoutError, TimeoutError)):
                error = timeout_error
            else:
                error = f"{type(exc).__name__}: {_root_cause(exc)}"
            return SendResult(None, error, "", elapsed_ms())
        try:
            excerpt, error = _read_excerpt(response, deadline)
        finally:
            response.release_conn()
        if error is not None and expired:
            error = f"{timeout_error} while reading the response"
        return SendResult(response.status, error, excerpt, elapsed_ms(), response.headers.get("Retry-After"))


def _read_excerpt(response: urllib3.BaseHTTPResponse, deadline: float) -> tuple[str, str | None]:
    """Up to EXCERPT_BYTES of the body, stopping at the deadline.

    The rest is not read: the connection is then closed instead of going back to the pool.
    """
    chunks: list[bytes] = []
    size = 0
    error = None
    try:
        for chunk in response.stream(4096):
            chunks.append(chunk)
            size += len(chunk)
            if size >= EXCERPT_BYTES or time.monotonic() > deadline:
                response.close()
                break
    except (HTTPError, OSError) as exc:
        response.close()
        error = f"reading the response: {exc}"
    return b"".join(chunks)[:EXCERPT_BYTES].decode("utf-8", "replace"), error


def _root_cause(exc: BaseException) -> str:
    """The innermost message of a wrapped requests/urllib3 error, for the attempt log."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return str(exc) or type(exc).__name__
