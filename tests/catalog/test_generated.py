"""The committed schemas and docs/events.md are what the generator makes."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from connector.schemagen.output import check, expected_files, source_root

ROOT = Path(__file__).resolve().parents[2]


def test_generator_root_is_this_checkout() -> None:
    assert source_root() == ROOT


def test_committed_files_are_not_stale() -> None:
    assert check(ROOT) == [], "run: python -m connector.schemagen"


def test_check_notices_edits_and_strays(tmp_path: Path) -> None:
    for path, text in expected_files().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    assert check(tmp_path) == []
    (tmp_path / "schemas/events/taxes.create.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "schemas/events/taxes.rename.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "docs/events.md").unlink()
    stale = {p.as_posix() for p in check(tmp_path)}
    assert stale == {"schemas/events/taxes.create.json", "schemas/events/taxes.rename.json", "docs/events.md"}
    result = subprocess.run(
        [sys.executable, "-m", "connector.schemagen", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert check(tmp_path) == []
    result = subprocess.run(
        [sys.executable, "-m", "connector.schemagen", "--check", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0


def test_docs_state_where_billrun_differs() -> None:
    text = (ROOT / "docs/events.md").read_text(encoding="utf-8")
    assert "`trackchanges` is not an action BillRun fires" in text
    assert "`balances.afterBalanceCreation` is documented but never fired" in text
    for type_name in ("subscribers.update", "bills.afterChargeSuccess", "collection.*"):
        assert f"### `{type_name}`" in text


def test_wheel_ships_every_schema_folder() -> None:
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "data-files"
    ]
    shipped = {pattern for patterns in data_files.values() for pattern in patterns}
    folders = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "schemas").rglob("*.json")}
    assert {f"{folder}/*.json" for folder in folders} == shipped
    for target, patterns in data_files.items():
        assert all(target == "share/billrun-connector/" + pattern.rsplit("/", 1)[0] for pattern in patterns)
