"""The SSRF guard: address classes, allowed networks, URL checks and the connect-time pin."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from urllib3.exceptions import SSLError

from connector.delivery.netguard import NetGuard, TargetRefused, guarded_pool_manager, parse_networks
from connector.delivery.sender import Sender

from .receiver import Receiver

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.10.1", "link-local"),
    ("fe80::1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("224.0.0.1", "multicast"),
    ("239.1.2.3", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("169.254.169.254", "metadata"),
    ("168.63.129.16", "metadata"),
    ("100.100.100.200", "metadata"),
    ("fd00:ec2::254", "metadata"),
    ("192.0.2.1", "private"),  # TEST-NET-1
    ("2001:db8::1", "private"),  # documentation
    ("::ffff:127.0.0.1", "loopback"),  # v4-mapped
    ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:10.0.0.1", "private"),
    ("::127.0.0.1", "loopback"),  # v4-compatible
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_refused_addresses(address: str, kind: str) -> None:
    reason = NetGuard().refusal(address)
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert NetGuard().refusal(address) is None


def test_allowed_networks() -> None:
    guard = NetGuard(["127.0.0.0/8", "fd00::/8"])
    assert guard.refusal("127.0.0.1") is None
    assert guard.refusal("::ffff:127.0.0.1") is None  # the v4-mapped form of an allowed address
    assert guard.refusal("fd00:ec2::254") is None
    assert guard.refusal("10.0.0.1") is not None
    assert guard.refusal("::1") is not None


def test_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match="not-a-cidr"):
        parse_networks(["127.0.0.0/8", "not-a-cidr"])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://0.0.0.0/", "unspecified"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        NetGuard().check_url(url)


ALLOW_LOOPBACK = (
    "to allow it, run the connector (serve, and any worker) with --allow-network 127.0.0.1/32 "
    "or BILLRUN_CONNECTOR_ALLOWED_NETWORKS=127.0.0.1/32"
)


def test_a_refusal_says_which_address_which_class_and_how_to_allow_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TargetRefused) as refused:
        NetGuard().check_url("http://127.0.0.1:8080/hook")
    assert str(refused.value) == f"127.0.0.1 is a loopback address; {ALLOW_LOOPBACK}"
    _fake_dns(monkeypatch, "intranet.example", [["10.1.2.3"]])
    with pytest.raises(TargetRefused) as refused:
        NetGuard().check_url("http://intranet.example/hook")
    assert str(refused.value) == (
        "intranet.example resolves to 10.1.2.3, a private address; to allow it, run the connector "
        "(serve, and any worker) with --allow-network 10.1.2.3/32 or BILLRUN_CONNECTOR_ALLOWED_NETWORKS=10.1.2.3/32"
    )


def test_check_url_allows_operator_network() -> None:
    NetGuard(["127.0.0.0/8", "::1/128"]).check_url("http://localhost:8080/hook")


def _fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[list[str] | None]) -> list[str]:
    """Answer *name* with each list of *answers* in turn (the last one repeats; ``None`` is a temporary
    DNS failure); other names resolve normally."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host != name:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        addresses = answers[min(len(calls), len(answers)) - 1]
        if addresses is None:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 0)))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_an_unresolvable_host_is_accepted_at_subscribe_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A passing DNS failure must not break a Zap's or a workflow's activation: the connect-time check holds."""
    calls = _fake_dns(monkeypatch, "flaky.example", [None])
    NetGuard().check_url("https://flaky.example/hook")
    assert calls == ["flaky.example"]
    NetGuard().check_url("http://host.invalid/hook")  # a name that never resolves (RFC 6761)


@pytest.mark.parametrize("host", ["localhost", "LocalHost.", "app.localhost"])
def test_a_localhost_name_is_loopback_even_when_it_does_not_resolve(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    _fake_dns(monkeypatch, host, [None])
    with pytest.raises(TargetRefused, match="localhost name: .*loopback"):
        NetGuard().check_url(f"http://{host}:8080/hook")
    with pytest.raises(TargetRefused, match="it means ::1, a loopback address"):
        NetGuard(["127.0.0.0/8"]).check_url(f"http://{host}:8080/hook")  # it may mean ::1 too
    NetGuard(["127.0.0.0/8", "::1/128"]).check_url(f"http://{host}:8080/hook")


@pytest.mark.parametrize("later", [["127.0.0.1"], None], ids=["loopback", "still-unresolvable"])
def test_unresolvable_at_subscribe_time_is_still_checked_at_connect(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver, later: list[str] | None
) -> None:
    calls = _fake_dns(monkeypatch, "late.example", [None, later])
    guard = NetGuard()
    url = f"http://late.example:{receiver.port}/hook"
    guard.check_url(url)
    result = Sender(guard).post(url, b"{}", {})
    assert result.status_code is None and result.error
    assert ("loopback" in result.error) if later else ("name resolution" in result.error), result.error
    assert receiver.requests == [] and len(calls) == 2


def test_dns_rebinding_is_refused_at_connect(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    """Public at subscribe time, loopback at connect time: the connection is refused."""
    calls = _fake_dns(monkeypatch, "rebind.example", [["93.184.216.34"], ["127.0.0.1"]])
    guard = NetGuard()
    url = f"http://rebind.example:{receiver.port}/hook"
    guard.check_url(url)
    result = Sender(guard).post(url, b"{}", {})
    assert result.status_code is None
    assert result.error == (
        f"refused by the network guard: rebind.example resolves to 127.0.0.1, a loopback address; {ALLOW_LOOPBACK}"
    )
    assert receiver.requests == [] and len(calls) == 2


def test_mixed_answers_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, "mixed.example", [["93.184.216.34", "10.0.0.7"]])
    with pytest.raises(TargetRefused, match="private"):
        NetGuard().check_url("http://mixed.example/hook")


def test_connect_uses_the_checked_address_and_keeps_host(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    """One resolution per connection: the address checked is the one connected to; Host keeps the name."""
    calls = _fake_dns(monkeypatch, "pinned.example", [["127.0.0.1"], ["10.9.9.9"]])
    url = f"http://pinned.example:{receiver.port}/hook"
    result = Sender(NetGuard(["127.0.0.0/8"])).post(url, b"{}", {})
    assert result.status_code == 200
    assert len(calls) == 1
    assert receiver.requests[0].headers["host"] == f"pinned.example:{receiver.port}"


def test_loopback_receiver_needs_an_allowed_network(receiver: Receiver) -> None:
    refused = Sender(NetGuard()).post(receiver.url, b"{}", {})
    assert refused.status_code is None and "loopback" in (refused.error or "")
    allowed = Sender(NetGuard(["127.0.0.0/8"])).post(receiver.url, b"{}", {})
    assert allowed.status_code == 200
    assert len(receiver.requests) == 1


def test_https_keeps_the_name_for_sni_and_certificate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Pinned to the checked address, TLS still sends the host name (SNI) and verifies the certificate for it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=pinned.example",
            "-addext",
            "subjectAltName=DNS:pinned.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)  # type: ignore[assignment,return-value]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _fake_dns(monkeypatch, "pinned.example", [["127.0.0.1"], ["10.9.9.9"]])
        manager = guarded_pool_manager(NetGuard(["127.0.0.0/8"]), ca_certs=str(cert))
        url = f"https://pinned.example:{server.server_address[1]}/hook"
        assert manager.request("POST", url, body=b"{}", timeout=10, retries=False).status == 204
        assert server_names == ["pinned.example"]
        with pytest.raises(SSLError):  # the name is what the certificate is checked against
            manager.request(
                "POST", f"https://127.0.0.1:{server.server_address[1]}/hook", body=b"{}", timeout=10, retries=False
            )
    finally:
        server.shutdown()
        server.server_close()
