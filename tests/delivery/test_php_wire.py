"""The connector's PHP rules against PHP itself: parse_str, http_build_query and the bodies `fire` sends.

Each test runs one php process over many cases (see php_wire.py: skipped without php outside CI).
"""

from __future__ import annotations

import math
import os
import random
import re
import struct
import subprocess
import sys
from datetime import datetime
from typing import Any

from connector import php
from connector.billrun_wire import encode_form
from connector.catalog import get_catalog

from . import php_wire
from .receiver import Receiver

SEED = 20240131
_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")

# Names and bodies PHP reads in its own way: brackets inside keys, mangled names, appends, NULs,
# nesting at and past PHP's limit, invalid UTF-8, empty fields.
EDGE_BODIES = [
    b"after[balance][groups][DATA+%5B5GB%5D][usagev]=1&after[balance][groups][DATA+%5B5GB%5D][count]=2",
    b"a[b[c]]=1&a[b]x=2&c]d[=3&e[f=4&g.h+i=5&++j=6&[k]=7&=8&l&m=&&n[]=9&n[]=10",
    b"p[-5]=1&p[]=2&q[9223372036854775806]=1&q[]=2&q[]=3&r[9223372036854775808]=1&r[]=2",
    b"a%00b=1&c[d%00e]=2&f[g]=h%00i&j[%20]=k&j[%09]=l&j[++]=m&j[%20x]=n",
    b"a[b][c]=1&a[b]=2&a[b][d]=3&a[x]=1&a=2&a[y]=3",
    b"x=%zz&y=%4&z=%e2%82&w=%ed%a0%80&v=%f4%90%80%80&u=caf%C3%A9+%D7%A9%D7%9C%D7%95%D7%9D",
    b"deep" + b"[x]" * 64 + b"=ok&over[keep]=1&over" + b"[x]" * 65 + b"=gone&after=1",
    # Values decoded together, then split at the joins: an encoded & must stay inside its value.
    b"a[b]=x%26y&a[c]=%26&a[d]=%2&e=6&f=%&g=26&h=%C3&i=%A9",
]
_FRAGMENTS = [
    "a", "b", "x", "0", "1", "-1", "-0", "05", "9223372036854775807", "[", "]", "[]", "][", "%5B", "%5D",
    " ", "+", ".", "%20", "%09", "%0A", "%0B", "%0C", "%0D", "=", "&", "%00", "%ff", "%c2%a0", "%D7%A9", "%26",
]  # fmt: skip


def _random_bodies(count: int) -> list[bytes]:
    rng = random.Random(SEED)
    return ["".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 16))).encode() for _ in range(count)]


def test_parse_str_is_phps() -> None:
    bodies = EDGE_BODIES + _random_bodies(6000)
    expected = php_wire.parse_str(bodies)
    different = [(body, want, php.parse_str(body)[0]) for body, want in zip(bodies, expected, strict=True)]
    different = [case for case in different if case[1] != case[2]]
    assert different == [], different[:5]


def _random_floats(count: int) -> list[float]:
    rng = random.Random(SEED)
    chosen = [0.1 + 0.2, 1e-5, 0.0001, 117.0, 1e14, 1e15, 1e20, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 1 / 3]
    chosen += [rng.uniform(-1e6, 1e6) for _ in range(count // 2)]
    chosen += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(count // 2)]
    return [value for value in chosen if math.isfinite(value)]


def _as_json(value: Any) -> Any:
    """A value for php_wire.php: floats JSON cannot write as {"__float__": ...}."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": php.php_float(value)}
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def test_http_build_query_is_phps() -> None:
    values: list[dict[str, Any]] = [{"f": value} for value in _random_floats(4000)]
    values += [
        {"a": 0.1 + 0.2, "b": "a~b", "c": [True, False, None, [], {}], "d": {"e": [1, [2, [3.5]]]}},
        {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "big": 18446744073709551616.0, "int": 2**63 - 1},
        {"key with [brackets] & ~tilde": {"DATA [5GB]": "x y", "A]B": "1", "ש": "שלום"}, "empty": "", "zero": 0},
        {"weird": "!*'();:@&=+$,/?#[]%\u00e9\u20ac\U0001f600", "list": ["", "0", None, " "]},
    ]
    expected = php_wire.http_build_query([_as_json(value) for value in values])
    mine = [php.http_build_query(value).encode() for value in values]
    different = [(value, want, got) for value, want, got in zip(values, expected, mine, strict=True) if want != got]
    assert different == [], different[:5]


def _billrun_values(value: Any) -> Any:
    """What BillRun holds for a sample: ISO dates as Mongo dates {sec, usec}, everything else as it is."""
    if isinstance(value, dict):
        return {key: _billrun_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_billrun_values(item) for item in value]
    if isinstance(value, str) and _ISO_UTC.fullmatch(value):
        moment = datetime.fromisoformat(value)
        return {"sec": math.floor(moment.timestamp()), "usec": moment.microsecond}
    return value


# Added to every sample: the values where PHP and Python print differently.
PHP_QUIRKS = {"quirks": {"sum": 0.1 + 0.2, "tiny": 1e-5, "huge": 1e20, "whole": 117.0, "tilde": "a~b c"}}


def _samples_of_every_group(per_group: int) -> list[tuple[str, dict[str, Any]]]:
    catalog = get_catalog()
    chosen: list[tuple[str, dict[str, Any]]] = []
    groups: dict[str, int] = {}
    for entry in catalog.types():
        for sample in catalog.samples(entry.type):
            if catalog.deliverable(sample["type"]) and groups.get(entry.group, 0) < per_group:
                groups[entry.group] = groups.get(entry.group, 0) + 1
                chosen.append((sample["type"], sample["data"]))
    assert set(groups) == {group["id"] for group in catalog.document["groups"]}, groups
    return chosen


def test_fire_encodes_every_group_as_php_does() -> None:
    samples = _samples_of_every_group(per_group=6)
    cases = [*samples, *((event_type, {**data, **PHP_QUIRKS}) for event_type, data in samples)]
    php_items = [
        _as_json(
            {"module": event_type.split(".", 1)[0], "action": event_type.split(".", 1)[1], **_billrun_values(data)}
        )
        for event_type, data in cases
    ]
    expected = php_wire.http_build_query(php_items)
    for (event_type, data), want in zip(cases, expected, strict=True):
        assert encode_form(event_type, data) == want, event_type
    assert b"quirks%5Bsum%5D=0.3&" in expected[-1] and b"a%7Eb+c" in expected[-1]


def test_the_fire_command_posts_phps_bytes(receiver: Receiver) -> None:
    """`billrun-connector fire` itself, once per group: the body it POSTs is the one PHP builds."""
    catalog = get_catalog()
    firsts = {}
    for entry in catalog.types():
        if entry.kind == "event" and entry.fired_by_billrun and catalog.samples(entry.type):
            firsts.setdefault(entry.group, entry.type)
    env = {**os.environ, "BILLRUN_CONNECTOR_SECRET_KEY": "unused"}
    for event_type in firsts.values():
        fired = subprocess.run(
            [sys.executable, "-c", "from connector.cli import main; main()", "fire", event_type, "--url", receiver.url],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert fired.returncode == 0, fired.stdout + fired.stderr
    sent = [request.body for request in receiver.wait_for(len(firsts))]
    php_items = []
    for event_type in firsts.values():
        module, action = event_type.split(".", 1)
        data = _billrun_values(catalog.samples(event_type)[0]["data"])
        php_items.append({"module": module, "action": action, **data})
    assert sent == php_wire.http_build_query(php_items)
