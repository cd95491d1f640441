"""Every sample, encoded as BillRun's PHP sends it, decodes and normalises back to itself.

``encode_form`` writes what PHP's http_build_query writes (tests/php/ compares them byte for byte).
"""

from __future__ import annotations

from typing import Any

import pytest

from connector.billrun import Delivery, parse_delivery
from connector.billrun_wire import encode_form
from connector.catalog import get_catalog

SAMPLES = [
    (entry.type, index, sample)
    for entry in get_catalog().types()
    for index, sample in enumerate(get_catalog().samples(entry.type))
]


@pytest.mark.parametrize("sample", [s for _, _, s in SAMPLES], ids=[f"{t}[{i}]" for t, i, _ in SAMPLES])
def test_form_round_trip(sample: dict[str, Any]) -> None:
    body = encode_form(sample["type"], sample["data"])
    assert b"%5Bsec%5D" in body or "T" not in str(sample["data"]) or sample["data"] == {}
    assert parse_delivery(body, "application/x-www-form-urlencoded") == Delivery(sample["type"], sample["data"])
