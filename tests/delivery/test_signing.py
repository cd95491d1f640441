"""Signing: the golden vector, rotation and interop with the standardwebhooks and svix libraries."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
import svix.webhooks

from connector.delivery.signing import InvalidSecretError, Signer, decode_secret
from connector.envelopes import envelope_body

GOLDEN_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
GOLDEN_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
GOLDEN_TS = 1614265330
GOLDEN_BODY = b'{"test": 2432232314}'
GOLDEN_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _env(event_id: str, event_type: str, timestamp: str, data: object) -> dict[str, object]:
    return {"id": event_id, "type": event_type, "timestamp": timestamp, "data": data}


OLD_SECRET = "whsec_" + "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQ="
NEW_SECRET = "whsec_" + "bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ="


def test_golden_vector() -> None:
    assert Signer([GOLDEN_SECRET]).signature(GOLDEN_ID, GOLDEN_TS, GOLDEN_BODY) == GOLDEN_SIG


def test_golden_vector_without_prefix() -> None:
    assert Signer([GOLDEN_SECRET.removeprefix("whsec_")]).signature(GOLDEN_ID, GOLDEN_TS, GOLDEN_BODY) == GOLDEN_SIG


def test_matches_reference_sign() -> None:
    body = envelope_body(_env("evt_1", "subscribers.update", "2024-01-31T00:00:00Z", {"name": "José", "n": [1, 2]}))
    ts = 1_700_000_000
    ours = Signer([NEW_SECRET]).signature("evt_1", ts, body)
    theirs = standardwebhooks.Webhook(NEW_SECRET).sign("evt_1", datetime.fromtimestamp(ts, UTC), body.decode())
    assert ours == theirs


def test_an_event_stored_with_a_lone_surrogate_is_still_signed_and_sent() -> None:
    """Since the ingest replaces them none is stored; one stored before goes out escaped."""
    body = envelope_body(_env("evt_old", "accounts.create", "2024-01-31T00:00:00Z", {"name": "Zo\udce9", "é": "é"}))
    assert body.isascii() and b'"Zo\\udce9"' in body and json.loads(body)["data"]["\u00e9"] == "\u00e9"
    headers = Signer([NEW_SECRET]).headers("evt_old", int(time.time()), body)
    standardwebhooks.Webhook(NEW_SECRET).verify(body, headers)
    assert envelope_body(_env("evt_new", "accounts.create", "2024-01-31T00:00:00Z", {"é": 1})) == (
        '{"id":"evt_new","type":"accounts.create","timestamp":"2024-01-31T00:00:00Z","data":{"é":1}}'.encode()
    )


@pytest.mark.parametrize("verifier", [standardwebhooks.Webhook, svix.webhooks.Webhook])
def test_libraries_verify_our_headers(verifier: type) -> None:
    body = envelope_body(_env("evt_abc", "accounts.create", "2024-01-31T00:00:00Z", {"after": {"aid": 1}}))
    headers = Signer([NEW_SECRET]).headers("evt_abc", int(time.time()), body)
    verifier(NEW_SECRET).verify(body, headers)  # raises on mismatch


@pytest.mark.parametrize("secret", [OLD_SECRET, NEW_SECRET])
def test_rotation_sends_both_signatures_each_verifies(secret: str) -> None:
    body = envelope_body(_env("evt_rot", "accounts.update", "2024-01-31T00:00:00Z", {}))
    headers = Signer([NEW_SECRET, OLD_SECRET]).headers("evt_rot", int(time.time()), body)
    items = headers["webhook-signature"].split(" ")
    assert len(items) == 2 and all(item.startswith("v1,") for item in items)
    standardwebhooks.Webhook(secret).verify(body, headers)
    svix.webhooks.Webhook(secret).verify(body, headers)


def test_wrong_secret_and_tampered_body_fail() -> None:
    body = envelope_body(_env("evt_x", "accounts.update", "2024-01-31T00:00:00Z", {"a": 1}))
    headers = Signer([NEW_SECRET]).headers("evt_x", int(time.time()), body)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(OLD_SECRET).verify(body, headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(NEW_SECRET).verify(body.replace(b'"a":1', b'"a":2'), headers)


def test_envelope_is_minified_json_with_four_keys() -> None:
    body = envelope_body(_env("evt_1", "bills.afterChargeSuccess", "2024-02-01T00:00:00Z", {"bill": {"amount": 117.0}}))
    assert b" " not in body
    assert list(json.loads(body)) == ["id", "type", "timestamp", "data"]


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_***notbase64***"])
def test_bad_secrets_are_refused(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        decode_secret(secret)


def test_no_secret_is_refused() -> None:
    with pytest.raises(InvalidSecretError):
        Signer([])
