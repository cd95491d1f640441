"""Id generation: format, and every character equally likely."""

from __future__ import annotations

import collections
import string

import pytest

from connector import ids


def test_ids_have_their_prefix_and_alphabet() -> None:
    made = {ids.event_id() for _ in range(1000)}
    assert len(made) == 1000
    for value in made:
        prefix, random_part = value.split("_")
        assert prefix == "evt" and len(random_part) == 22 and ids.is_valid_id(value)
        assert set(random_part) <= set(string.ascii_letters + string.digits)
    assert len(ids.api_key_secret()) == len("brc_") + 40


def test_every_character_is_equally_likely(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fed every byte value once, each of the 62 characters comes out exactly 4 times: the
    bytes that would favour some characters (248 to 255) are dropped, not wrapped around."""
    monkeypatch.setattr(ids.secrets, "token_bytes", lambda _n: bytes(range(256)))
    counts = collections.Counter(ids._token(248))
    assert len(counts) == 62 and set(counts.values()) == {4}


def test_short_reads_are_topped_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read that loses bytes to the rejection is followed by another until the token is full."""
    chunks = iter([bytes([255] * 20 + [0, 1]), bytes(range(2, 40))])
    monkeypatch.setattr(ids.secrets, "token_bytes", lambda _n: next(chunks))
    assert ids._token(22) == "ab" + "cdefghijklmnopqrstuvwxyz"[:20]
