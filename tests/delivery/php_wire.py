"""Running PHP's own http_build_query, parse_str and curl (php_wire.php) from the tests.

scripts/test installs Debian's php-cli and php-curl and sets BILLRUN_CONNECTOR_REQUIRE_PHP, so CI
runs these tests; elsewhere they are skipped, with the reason, when PHP is missing.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "php_wire.php")
REQUIRE_ENV = "BILLRUN_CONNECTOR_REQUIRE_PHP"
# BillRun's PHP: the default precision (14), which http_build_query prints floats with; parse_str
# without the max_input_vars cap (a setting of a PHP receiver, not of the wire format).
SETTINGS = ("-d", "precision=14", "-d", "max_input_vars=1000000", "-d", "display_errors=stderr")


def php_binary() -> str:
    """The php binary with curl, or skip (fail under scripts/test or in CI) saying what is missing."""
    php = shutil.which("php")
    reason = None
    if php is None:
        reason = "php is not installed (scripts/test installs Debian's php-cli and php-curl)"
    elif subprocess.run([php, "-r", "exit(function_exists('curl_init') ? 0 : 1);"], check=False).returncode:
        reason = "php has no curl extension (scripts/test installs Debian's php-curl)"
    if reason is None:
        assert php is not None
        return php
    if os.environ.get(REQUIRE_ENV) or os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_php(mode: str, job: Any) -> Any:
    """php_wire.php *mode* with *job* as its JSON input; its JSON answer."""
    result = subprocess.run(
        [php_binary(), *SETTINGS, SCRIPT, mode],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def from_hex(value: Any) -> Any:
    """A parse_str result as php_wire.php writes it (hex bytes) as text: invalid UTF-8 becomes U+FFFD."""
    if isinstance(value, dict):
        return {from_hex(key): from_hex(item) for key, item in value.items()}
    return bytes.fromhex(value).decode("utf-8", errors="replace")


def parse_str(bodies: Sequence[bytes]) -> list[dict[str, Any]]:
    """PHP's parse_str of each body."""
    return [from_hex(parsed) for parsed in run_php("parse", [base64.b64encode(body).decode() for body in bodies])]


def http_build_query(items: Sequence[Any]) -> list[bytes]:
    """PHP's http_build_query of each item (JSON values as PHP values; see php_wire.php)."""
    return [body.encode("ascii") for body in run_php("build", list(items))]
