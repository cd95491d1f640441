"""Writes the generated files into a repository checkout, or lists the stale ones."""

from __future__ import annotations

from pathlib import Path

from connector.schemagen.build import build_schemas, render

DOCS_PATH = Path("docs/events.md")
BILLRUN_DOCS_PATH = Path("docs/billrun.md")


def source_root() -> Path:
    """The repository root of this source checkout (where ``schemas/`` and ``docs/`` live)."""
    return Path(__file__).resolve().parents[2]


def expected_files() -> dict[Path, str]:
    """Every generated file (relative to the repository root) and its exact text."""
    from connector.schemagen.billrun_doc import render_billrun_doc
    from connector.schemagen.docs import render_events_doc

    documents = build_schemas()
    files = {Path("schemas") / path: render(doc) for path, doc in documents.items()}
    files[DOCS_PATH] = render_events_doc(documents)
    files[BILLRUN_DOCS_PATH] = render_billrun_doc(documents)
    return files


def _generated_schema_files(root: Path) -> set[Path]:
    folder = root / "schemas"
    return {p.relative_to(root) for p in folder.rglob("*.json")} if folder.is_dir() else set()


def check(root: Path) -> list[Path]:
    """Files that differ from the generator's output, are missing, or should not be there."""
    expected = expected_files()
    stale = [
        path
        for path, text in expected.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
    stale.extend(sorted(_generated_schema_files(root) - set(expected)))
    return stale


def write(root: Path) -> list[Path]:
    """Write every generated file and remove schema files the generator no longer makes."""
    expected = expected_files()
    for path in sorted(_generated_schema_files(root) - set(expected)):
        (root / path).unlink()
    written = []
    for path, text in expected.items():
        target = root / path
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(path)
    return written
