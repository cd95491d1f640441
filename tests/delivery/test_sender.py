"""The HTTP sender against real loopback receivers."""

from __future__ import annotations

import socket
import threading

from connector import __version__
from connector.delivery.netguard import NetGuard
from connector.delivery.sender import EXCERPT_BYTES, Sender

from .receiver import Receiver, Reply

LOOPBACK = NetGuard(["127.0.0.0/8"])


def test_posts_body_and_headers(receiver: Receiver) -> None:
    result = Sender(LOOPBACK).post(receiver.url, b'{"id":"evt_1"}', {"webhook-id": "evt_1"})
    assert result.status_code == 200 and result.error is None and result.excerpt == "ok"
    got = receiver.requests[0]
    assert got.body == b'{"id":"evt_1"}'
    assert got.headers["user-agent"] == f"billrun-connector/{__version__}"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == "evt_1"


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.responder = lambda _r: Reply(302, {"Location": receiver.url + "/elsewhere"}, b"moved")
    result = Sender(LOOPBACK).post(receiver.url, b"{}", {})
    assert result.status_code == 302
    assert len(receiver.requests) == 1


def test_response_excerpt_is_bounded(receiver: Receiver) -> None:
    receiver.responder = lambda _r: Reply(500, body=b"x" * (EXCERPT_BYTES * 3))
    result = Sender(LOOPBACK).post(receiver.url, b"{}", {})
    assert result.status_code == 500 and len(result.excerpt) == EXCERPT_BYTES


def test_retry_after_is_reported(receiver: Receiver) -> None:
    receiver.responder = lambda _r: Reply(429, {"Retry-After": "7"})
    assert Sender(LOOPBACK).post(receiver.url, b"{}", {}).retry_after == "7"


def test_total_timeout(receiver: Receiver) -> None:
    receiver.responder = lambda _r: Reply(delay=1.5)
    result = Sender(LOOPBACK, timeout=0.3).post(receiver.url, b"{}", {})
    assert result.status_code is None and "timeout" in (result.error or "")
    assert result.duration_ms < 1400


def test_connection_refused_is_an_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = Sender(LOOPBACK).post(f"http://127.0.0.1:{port}/hook", b"{}", {})
    assert result.status_code is None and "refused" in (result.error or "").lower()


def test_connect_timeout_is_an_error() -> None:
    """A listener whose backlog is full never accepts: the connect attempt times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        result = Sender(LOOPBACK, connect_timeout=0.3, timeout=2).post(f"http://127.0.0.1:{port}/hook", b"{}", {})
        assert result.status_code is None and "timeout" in (result.error or "")
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_session_is_shared_by_threads(receiver: Receiver) -> None:
    sender = Sender(LOOPBACK, pool_size=4)
    results = []
    threads = [threading.Thread(target=lambda: results.append(sender.post(receiver.url, b"{}", {}))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [r.status_code for r in results] == [200] * 8


def _dripping_server(stop: threading.Event) -> int:
    """A server that answers one byte of its headers every 0.1 s: each read succeeds, the whole never ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.1)

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.recv(65536)
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                        if stop.wait(0.1):
                            break
                        try:
                            conn.sendall(bytes([byte]))
                        except OSError:
                            break

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_total_timeout_holds_against_a_slow_drip() -> None:
    stop = threading.Event()
    try:
        port = _dripping_server(stop)
        result = Sender(LOOPBACK, timeout=0.6).post(f"http://127.0.0.1:{port}/hook", b"{}", {})
    finally:
        stop.set()
    assert result.status_code is None and "timeout" in (result.error or "")
    assert result.duration_ms < 1500
