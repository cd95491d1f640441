"""The dereferenced schema view: inlining, merging, recursion, and that it validates as the schemas do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from connector.billrun import FORM_TYPE, Delivery, normalise, parse_delivery
from connector.billrun_wire import encode_form
from connector.catalog import Catalog, ValidationIssue, _issue
from connector.schema_view import SchemaView, SchemaViewError

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
BASE = "https://billrun-connector.invalid/test/"
# Types whose payloads cover nested entities, arrays of objects, money, $defs and free-form maps.
MUTATED_TYPES = (
    "subscribers.update",
    "bills.afterChargeSuccess",
    "accounts.create",
    "rates.update",
    "balances.afterBalanceUpdate",
)
WRONG_VALUES: tuple[Any, ...] = ({"x": 1}, "not-a-number-or-date", -1, None)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(SCHEMAS)


def _view(*documents: dict[str, Any]) -> tuple[SchemaView, Registry]:
    registry: Registry = Registry().with_resources(
        (document["$id"], DRAFT202012.create_resource(document)) for document in documents
    )
    return SchemaView(registry), registry


def _reference_issues(catalog: Catalog, type_name: str, data: Any) -> list[ValidationIssue]:
    """The errors the schema gives when its references are resolved through the registry at every step."""
    uri = _uri(catalog, type_name)
    validator = Draft202012Validator(
        {"$ref": f"{uri}#/properties/data"},
        registry=catalog.registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return sorted({_issue(error) for error in validator.iter_errors(data)}, key=lambda i: (i.path, i.message))


def _uri(catalog: Catalog, type_name: str) -> str:
    entry = catalog.get(type_name)
    assert entry is not None
    return json.loads((SCHEMAS / entry.schema_path).read_text(encoding="utf-8"))["$id"]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [path]


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copy


def test_data_schemas_are_inlined_and_flat(catalog: Catalog) -> None:
    for entry in catalog.types():
        text = json.dumps(catalog.data_schema(entry.type).schema)
        assert '"$ref"' not in text and '"allOf"' not in text, entry.type
    date = catalog.data_schema("subscribers.update").member("after").member("plan_activation")  # type: ignore[union-attr]
    assert date is not None and date.date_time and date.types == ("string",)
    assert set(date.schema) == {"type", "format", "pattern"}


def test_every_sample_and_mutation_validates_as_through_the_registry(catalog: Catalog) -> None:
    """Same errors, paths and messages as resolving every $ref on the fly, valid or not."""
    for entry in catalog.types():
        if entry.kind == "group":
            continue
        for sample in catalog.samples(entry.type):
            assert catalog.validate_data(entry.type, sample["data"]) == _reference_issues(
                catalog, entry.type, sample["data"]
            )
    checked = 0
    for type_name in MUTATED_TYPES:
        data = catalog.samples(type_name)[0]["data"]
        for leaf in _leaves(data):
            for wrong in WRONG_VALUES:
                mutated = _replaced(data, leaf, wrong)
                assert catalog.validate_data(type_name, mutated) == _reference_issues(catalog, type_name, mutated)
                checked += 1
    assert checked > 300


def test_ref_with_sibling_keywords_is_merged_into_one_object() -> None:
    view, _ = _view(
        {
            "$id": BASE + "a.json",
            "$ref": "#/$defs/count",
            "minimum": 0,
            "description": "d",
            "$defs": {"count": {"type": "integer", "title": "Count"}},
        }
    )
    assert view.inline(BASE + "a.json") == {"minimum": 0, "type": "integer"}


def test_coupled_keywords_stay_apart() -> None:
    """additionalProperties only sees the properties beside it: such schemas are not merged."""
    document = {
        "$id": BASE + "b.json",
        "$ref": "#/$defs/closed",
        "properties": {"x": {"type": "integer"}},
        "$defs": {"closed": {"properties": {"y": {}}, "additionalProperties": False}},
    }
    view, registry = _view(document)
    inlined = view.inline(BASE + "b.json")
    assert inlined["allOf"] == [{"properties": {"y": {}}, "additionalProperties": False}]
    for instance in ({"x": 1}, {"y": 1}, {}, {"x": "a"}):
        expected = Draft202012Validator(document, registry=registry).is_valid(instance)
        assert Draft202012Validator(inlined, registry=registry).is_valid(instance) == expected, instance
    node = view.node(inlined)
    assert node.declared == frozenset({"x", "y"}) and node.member("x").types == ("integer",)  # type: ignore[union-attr]


def test_recursive_reference_is_kept_and_walked_as_a_cycle() -> None:
    tree = {
        "$id": BASE + "tree.json",
        "type": "object",
        "properties": {"value": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#"}}},
    }
    view, registry = _view(tree)
    inlined = view.inline(BASE + "tree.json")
    assert inlined["properties"]["children"]["items"] == {"$ref": BASE + "tree.json"}
    node = view.node(inlined)
    children = node.member("children")
    assert children is not None and children.items is not None
    assert children.items.member("children") is children  # the same node: walking a finite value ends
    validator = Draft202012Validator(inlined, registry=registry)
    errors = list(validator.iter_errors({"value": 1, "children": [{"children": [{"value": "x"}]}]}))
    assert [error.json_path for error in errors] == ["$.children[0].children[0].value"]


def test_references_that_only_lead_back_to_themselves_end() -> None:
    view, _ = _view(
        {"$id": BASE + "loop.json", "$ref": "#"},
        {"$id": BASE + "ping.json", "$ref": "pong.json", "type": "object"},
        {"$id": BASE + "pong.json", "$ref": "ping.json", "properties": {"n": {"type": "integer"}}},
    )
    loop = view.node(view.inline(BASE + "loop.json"))
    assert loop.types == () and loop.member("x") is None and loop.items is None
    ping = view.node(view.inline(BASE + "ping.json"))
    assert ping.types == ("object",) and ping.member("n").types == ("integer",)  # type: ignore[union-attr]


def test_an_any_of_of_types_declares_those_types(catalog: Catalog) -> None:
    """ "An integer or a string" is an anyOf of two typed branches (ajv's strict mode refuses type lists)."""
    view, _ = _view(
        {
            "$id": BASE + "either.json",
            "properties": {
                "count": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
                "narrowed": {"allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"type": "string"}]},
                "open": {"anyOf": [{"type": "integer"}, {"minimum": 0}]},
            },
        }
    )
    node = view.node(view.inline(BASE + "either.json"))
    assert node.member("count").types == ("integer", "string")  # type: ignore[union-attr]
    assert node.member("narrowed").types == ("string",)  # type: ignore[union-attr]
    assert node.member("open").types == ()  # type: ignore[union-attr]
    data = normalise(
        "discounts.create",
        {"after": {"priority": "3", "cycles": "", "limit": "12.5", "params": {"min_subscribers": ""}}},
        catalog,
    )
    assert data["after"] == {"priority": 3, "cycles": "", "limit": 12.5, "params": {"min_subscribers": ""}}
    step = {"from": "0", "to": "100", "price": "0.1"}
    rate = {"after": {"rates": {"call": {"BASE": {"rate": {"0": step, "1": {**step, "to": "UNLIMITED"}}}}}}}
    steps = normalise("rates.update", rate, catalog)["after"]["rates"]["call"]["BASE"]["rate"]
    assert [s["to"] for s in steps] == [100, "UNLIMITED"]


def test_unsupported_keywords_are_refused() -> None:
    view, _ = _view({"$id": BASE + "c.json", "$dynamicRef": "#node"})
    with pytest.raises(SchemaViewError, match=r"\$dynamicRef"):
        view.inline(BASE + "c.json")


def test_a_recursive_catalog_schema_is_normalised_encoded_and_validated(tmp_path: Path) -> None:
    """Normaliser, encoder and both validators follow a self-reference to any depth."""
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    path = schemas / "entities" / "subscribers.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["properties"]["parent"] = {"$ref": "#", "description": "The subscriber this one hangs under."}
    path.write_text(json.dumps(document), encoding="utf-8")
    catalog = Catalog(schemas)
    raw = {
        "before": {
            "sid": "1",
            "parent": {"sid": "2", "parent": {"sid": "3", "from": {"sec": "1706659200", "usec": "0"}}},
        },
        "after": {"sid": "1"},
        "modifiedUser": "crm",
    }
    data = normalise("subscribers.update", raw, catalog)
    assert data["before"]["parent"]["parent"] == {"sid": 3, "from": "2024-01-31T00:00:00Z"}
    assert catalog.validate_data("subscribers.update", data) == []
    broken = _replaced(data, ("before", "parent", "parent", "sid"), "x")
    assert [issue.path for issue in catalog.validate_data("subscribers.update", broken)] == [
        "$.before.parent.parent.sid"
    ]
    assert parse_delivery(encode_form("subscribers.update", data, catalog), FORM_TYPE, catalog=catalog) == Delivery(
        "subscribers.update", data
    )
