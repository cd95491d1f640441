"""The schema folder: valid 2020-12 documents, resolvable references, valid samples, one file per type."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connector.catalog import Catalog

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DOCUMENTS = {
    p.relative_to(SCHEMAS).as_posix(): json.loads(p.read_text(encoding="utf-8"))
    for p in sorted(SCHEMAS.rglob("*.json"))
}
CATALOG = DOCUMENTS["catalog.json"]
ENTRIES = CATALOG["events"]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key != "examples":
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(SCHEMAS)


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if p != "catalog.json"])
def test_every_schema_is_valid_2020_12(path: str) -> None:
    document = DOCUMENTS[path]
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if p != "catalog.json"])
def test_every_ref_resolves(path: str, catalog: Catalog) -> None:
    resolver = catalog.registry.resolver(base_uri=DOCUMENTS[path]["$id"])
    refs = list(_refs(DOCUMENTS[path]))
    for reference in refs:
        resolved = resolver.lookup(reference)
        assert isinstance(resolved.contents, dict), reference


def test_shared_definitions_are_referenced_not_copied() -> None:
    referenced = set()
    for path, document in DOCUMENTS.items():
        for reference in _refs(document):
            target = reference.split("#", 1)[0]
            if target:
                referenced.add(posixpath.normpath(posixpath.join(posixpath.dirname(path), target)))
    shared = {p for p in DOCUMENTS if p.startswith(("entities/", "documents/", "common/"))}
    assert shared <= referenced
    event_text = json.dumps([d for p, d in DOCUMENTS.items() if p.startswith("events/")])
    assert '"format": "date-time"' not in event_text, "dates come from common/types.json"


def _keyword_values(node: Any, keyword: str) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == keyword:
                yield value
            if key != "examples":
                yield from _keyword_values(value, keyword)
    elif isinstance(node, list):
        for item in node:
            yield from _keyword_values(item, keyword)


def test_no_union_type_keyword() -> None:
    """ajv's strict mode (tests/ajv, run by scripts/test) refuses ``"type": [...]``; unions are anyOf branches."""
    for path, document in DOCUMENTS.items():
        unions = [value for value in _keyword_values(document, "type") if isinstance(value, list)]
        assert not unions, (path, unions)


def test_catalog_and_schema_files_match_one_to_one() -> None:
    listed = [entry["schema"] for entry in ENTRIES]
    assert len(listed) == len(set(listed))
    on_disk = {p for p in DOCUMENTS if p.startswith("events/")}
    assert set(listed) == on_disk
    for entry in ENTRIES:
        document = DOCUMENTS[entry["schema"]]
        assert document["title"] == entry["title"]
        assert document["allOf"] == [{"$ref": "../common/envelope.json"}]
        assert "data" in document["properties"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["type"] for e in ENTRIES])
def test_every_sample_validates(entry: dict[str, Any], catalog: Catalog) -> None:
    examples = DOCUMENTS[entry["schema"]]["examples"]
    assert examples, "every type carries at least one sample"
    for example in examples:
        assert catalog.validate_envelope(example) == []
        assert catalog.validate_data(entry["type"], example["data"]) == []
        assert re.fullmatch(r"evt_[A-Za-z0-9_]+", example["id"])
        if entry["kind"] == "event":
            assert example["type"] == entry["type"]
        elif entry["kind"] == "group":
            assert example["type"] in entry["expands_to"]
        else:
            assert catalog.get(example["type"]) is not None and example["type"] != entry["type"]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def test_samples_carry_no_placeholder_values() -> None:
    placeholders = {"string", "foo", "bar", "test", "example", "xxx", "value", "lorem ipsum"}
    for entry in ENTRIES:
        for example in DOCUMENTS[entry["schema"]]["examples"]:
            found = {text for text in _strings(example["data"]) if text.lower() in placeholders}
            assert not found, (entry["type"], found)
