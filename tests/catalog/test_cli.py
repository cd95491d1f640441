"""The catalog commands: validate, catalog, schema, sample, and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.catalog import get_catalog
from connector.cli import main

TYPES = [entry.type for entry in get_catalog().types()]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_every_sample_validates(tmp_path: Path) -> None:
    for type_name in TYPES:
        code, output = run("sample", type_name)
        assert code == 0, output
        path = tmp_path / f"{type_name}.json"
        path.write_text(output, encoding="utf-8")
        code, output = run("validate", str(path))
        assert (code, output.split(":")[0]) == (0, "valid"), output


def test_wrong_field_type_exits_1_and_names_the_field(tmp_path: Path) -> None:
    sample = get_catalog().samples("subscribers.update")[0]
    sample["data"]["after"]["sid"] = "twelve"
    sample["data"]["before"]["services"][0]["quantity"] = "one"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(sample), encoding="utf-8")
    code, output = run("validate", str(path))
    assert code == 1
    assert "$.data.after.sid: 'twelve' is not of type 'integer'" in output
    assert "$.data.before.services[0].quantity" in output and "2 error(s)" in output


def test_bare_payload_with_type(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"old": 100, "new": "eighty", "aid": 1}), encoding="utf-8")
    code, output = run("validate", "--type", "bills.afterPaymentAdjusted", str(path))
    assert code == 1 and "$.new" in output
    path.write_text(json.dumps({"old": 100, "new": 80, "aid": 1}), encoding="utf-8")
    assert run("validate", "--type", "bills.afterPaymentAdjusted", str(path))[0] == 0
    code, output = run("validate", str(path))
    assert code == 2 and "--type" in output


def test_type_given_and_envelope_disagree(tmp_path: Path) -> None:
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(get_catalog().samples("taxes.create")[0]), encoding="utf-8")
    code, output = run("validate", "--type", "taxes.update", str(path))
    assert code == 1 and "expected 'taxes.update'" in output


@pytest.mark.parametrize(
    "content,args,needle",
    [
        ("{not json", (), "not JSON"),
        ("\udcff", (), "not UTF-8"),
        (
            json.dumps({"id": "evt_1", "type": "bills.afterNothing", "timestamp": "2024-01-01T00:00:00Z", "data": {}}),
            (),
            "unknown event type 'bills.afterNothing'",
        ),
        ("{}", ("--type", "nope.none"), "unknown event type 'nope.none'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, content: str, args: tuple[str, ...], needle: str) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    code, output = run("validate", *args, str(path))
    assert code == 2 and needle in output
    assert run("validate", str(tmp_path / "missing.json"))[0] == 2


def test_catalog_schema_sample() -> None:
    code, output = run("catalog")
    assert code == 0
    assert all(type_name in output for type_name in TYPES)
    assert "balances.afterBalanceCreation" in output and "never fired by BillRun" in output
    code, output = run("catalog", "--json")
    assert code == 0 and json.loads(output) == get_catalog().document
    code, output = run("schema", "collection.send_reminder_sms")
    assert code == 0 and json.loads(output)["title"] == "Any Collection Event"
    code, output = run("sample", "--all", "events.notify")
    assert code == 0 and len(json.loads(output)) == 2
    for command in ("schema", "sample"):
        code, output = run(command, "subscribers.rename")
        assert code == 2 and "unknown event type" in output


def test_console_entry_point_exit_codes(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    sample = get_catalog().samples("accounts.create")[0]
    sample["data"]["after"]["in_collection"] = "no"
    path.write_text(json.dumps(sample), encoding="utf-8")
    command = [sys.executable, "-c", "from connector.cli import main; main()", "validate", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "$.data.after.in_collection" in result.stdout
