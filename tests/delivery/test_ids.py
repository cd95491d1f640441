"""Id generation: format, and every character equally likely."""

from __future__ import annotations

import collections
import itertools
import string

import pytest

from connector import ids


def test_ids_have_their_prefix_and_alphabet() -> None:
    made = {ids.event_id() for _ in range(1000)}
    assert len(made) == 1000
    for value in made:
        prefix, random_part = value.split("_")  # (its first 8 characters are the creation time)
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


def test_event_and_delivery_ids_sort_by_creation_time() -> None:
    times = [0, 1, 61, 62, 1_700_000_000_000, 1_700_000_000_001, 62**8 - 1]
    made = [ids.ordered_id("evt", ms) for ms in times]
    assert made == sorted(made) and all(len(value) == len("evt_") + 22 for value in made)
    assert made[0].startswith("evt_00000000") and made[-1].startswith("evt_zzzzzzzz")
    later = [ids.event_id() for _ in range(200)]  # made one after another: their times never go back
    assert all(a[4:12] <= b[4:12] for a, b in itertools.pairwise(later))
    assert ids.delivery_id().startswith("dlv_") and ids.is_valid_id(ids.delivery_id())
