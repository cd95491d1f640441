"""One reading of a target URL: what the sender would refuse is refused when subscribing."""

from __future__ import annotations

from typing import Any

import pytest

from connector.delivery.netguard import NetGuard
from connector.delivery.sender import Sender
from connector.delivery.targets import InvalidTarget, parse_target

HOSTILE = [
    ("http://127.0.0.1:18261\\@example.org/", "backslash"),
    ("http://%31%32%37.0.0.1/", "percent-encoded"),
    ("http://[fe80::1%25lo]/", "zone id"),
    ("http://[fe80::1%lo]/", "zone id"),
    ("http://user:pw@example.org/hook", "user info"),
    ("http://example.org@127.0.0.1/hook", "user info"),
    ("http://exa mple.org/hook", "whitespace"),
    ("http://example.org/ho ok", "whitespace"),
    ("http://example.org/hook\r\nX-Injected: 1", "control character"),
    ("http://example.org/\thook", "whitespace"),
    (" http://example.org/hook", "whitespace"),
    ("http://example.org/hook\x00", "control character"),
    ("ftp://example.org/x", "http:// or https://"),
    ("javascript:alert(1)", "http:// or https://"),
    ("http:///nohost", "no host"),
    ("http://example.org:99999/", "not a valid URL"),
    ("http://-bad-.example.org/", "not a valid host name"),
    ("http://[not-v6]/", "not a valid URL|not an IPv6 address"),
    ("http://2130706433/", "IPv4 address in a form"),
    ("http://0x7f.1/", "IPv4 address in a form"),
    ("http://0177.0.0.1/", "IPv4 address in a form"),
    ("http://127.1/", "IPv4 address in a form"),
    ("http://010.010.010.010/", "IPv4 address in a form"),
    ("http://134744072/", "IPv4 address in a form"),
    ("http://127.0.0.1./", "IPv4 address in a form"),
    ("http://example.org:0/", "port is 0"),
    ("", "empty"),
    ("http://example.org/" + "a" * 2100, "longer than 2048"),
]


@pytest.mark.parametrize(("url", "message"), HOSTILE)
def test_hostile_targets_are_refused_by_the_parser(url: str, message: str) -> None:
    with pytest.raises(InvalidTarget, match=message):
        parse_target(url)


_UNSAFE = [chr(code) for code in range(0x110000) if chr(code).isspace() or code < 0x20 or code == 0x7F]


def test_every_white_space_and_control_character_is_refused_at_its_position() -> None:
    """Python's own definitions (str.isspace, C0 controls, DEL) against the parser's check."""
    for char in _UNSAFE:
        with pytest.raises(InvalidTarget, match="whitespace or a control character at position 22"):
            parse_target(f"http://example.org/hoo{char}k")
    for char in ("\u200b", "\u00e9", "\u0080", "~"):  # not white space (U+200B, U+0080 are not for Python)
        assert parse_target(f"http://example.org/hoo{char}k").host == "example.org"


@pytest.mark.parametrize(("url", "message"), HOSTILE)
def test_the_sender_refuses_the_same_targets(url: str, message: str) -> None:
    sender = Sender(NetGuard(["0.0.0.0/0", "::/0"]), timeout=1)
    try:
        result = sender.post(url, b"{}", {})
    finally:
        sender.close()
    assert result.status_code is None and result.error is not None and result.error.startswith("refused:")


@pytest.mark.parametrize(("url", "message"), [(url, message) for url, message in HOSTILE if url == url.strip()])
def test_subscribing_refuses_the_same_targets(url: str, message: str, service: Any) -> None:
    response = service.client().post(
        "/api/v1/hooks", json={"target_url": url, "events": ["accounts.create"]}, headers=service.auth()
    )
    assert response.status_code == 422, response.get_json()
    assert "target_url" in response.get_json()["error"]["fields"]


def test_subscribing_strips_surrounding_whitespace(service: Any) -> None:
    response = service.client().post(
        "/api/v1/hooks",
        json={"target_url": " http://127.0.0.1:9/hook\n", "events": ["accounts.create"]},
        headers=service.auth(),
    )
    assert response.status_code == 201 and response.get_json()["target_url"] == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("http://Example.ORG/hook", "example.org", 80),
        ("https://example.org:8443/a?b=c#d", "example.org", 8443),
        ("http://[2001:db8::1]:8080/", "2001:db8::1", 8080),
        ("http://bücher.example/", "xn--bcher-kva.example", 80),
        ("http://203.0.113.7/x%20y", "203.0.113.7", 80),
        ("http://example.org?to=ops@example.org", "example.org", 80),  # an @ after the authority is no user info
        ("http://example.org/a@b#c@d", "example.org", 80),
        ("http://123.example.org/", "123.example.org", 80),
    ],
)
def test_good_targets_parse(url: str, host: str, port: int) -> None:
    target = parse_target(url)
    assert (target.host, target.port, target.url) == (host, port, url)
