"""Every sample, encoded the way BillRun's PHP sends it, decodes and normalises back to itself."""

from __future__ import annotations

from typing import Any

import pytest

from connector.billrun import parse_delivery
from connector.catalog import get_catalog

from .php_query import as_billrun, http_build_query

SAMPLES = [
    (entry.type, index, sample)
    for entry in get_catalog().types()
    for index, sample in enumerate(get_catalog().samples(entry.type))
]


@pytest.mark.parametrize("sample", [s for _, _, s in SAMPLES], ids=[f"{t}[{i}]" for t, i, _ in SAMPLES])
def test_form_round_trip(sample: dict[str, Any]) -> None:
    module, action = sample["type"].split(".", 1)
    body = http_build_query({"module": module, "action": action, **as_billrun(sample["data"])})
    assert b"%5Bsec%5D" in body or "T" not in str(sample["data"]) or sample["data"] == {}
    assert parse_delivery(body, "application/x-www-form-urlencoded") == (sample["type"], sample["data"])


def test_encoder_mirrors_php() -> None:
    body = http_build_query({"a": {"b": [True, False, None, 1.5, 117.0], "c": [], "d": "x y&z~"}, "e": None})
    assert body == b"a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=0&a%5Bb%5D%5B3%5D=1.5&a%5Bb%5D%5B4%5D=117&a%5Bd%5D=x+y%26z%7E"
    assert as_billrun({"from": "2024-01-31T00:00:00.250000Z"}) == {"from": {"sec": 1706659200, "usec": 250000}}
