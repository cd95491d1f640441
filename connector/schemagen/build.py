"""Turns the compact definition into the files of ``schemas/`` (path -> JSON document)."""

from __future__ import annotations

import json
from typing import Any

from connector.schemagen.catalog_entries import catalog_document
from connector.schemagen.dsl import Schema, ref
from connector.schemagen.fields import (
    COMMON_TYPES,
    DOCUMENT_FIELDS,
    ENTITY_FIELDS,
    PAYLOADS,
    change_required,
    entity_change,
)
from connector.schemagen.samples import (
    CUSTOM_STEP_NAME,
    EXTRA_CHANGE_SAMPLES,
    FREE_TEXT_STEP_NAME,
    HOOK_SAMPLES,
    entity_change_sample,
    envelope,
)
from connector.schemagen.spec import ALL_TYPES, CUSTOM_STEP_DOCUMENT, ENTITIES, HOOKS

BASE_URI = "https://billrun-connector.invalid/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE = "../common/envelope.json"

Document = dict[str, Any]


def _head(path: str, title: str, description: str) -> Document:
    return {"$schema": DRAFT, "$id": BASE_URI + path, "title": title, "description": description}


def _common() -> dict[str, Document]:
    types = {
        **_head(
            "common/types.json",
            "Shared definitions",
            "Dates, money, ids and small structures used by every BillRun document.",
        ),
        "$defs": COMMON_TYPES,
    }
    env = {
        **_head(
            "common/envelope.json",
            "Delivery envelope",
            "Every delivery and sample: the event id, its concrete type, when the connector received it,"
            " and the normalised BillRun payload.",
        ),
        "type": "object",
        "properties": {
            "id": ref("types.json#/$defs/event_id"),
            "type": {
                "type": "string",
                "pattern": r"^[^.]+\..+$",
                "description": "The event type, <module>.<action> with BillRun's names (an action may be"
                " free text: a collection step name).",
            },
            "timestamp": ref("types.json#/$defs/date", "When the connector received the event (ISO 8601 UTC)."),
            "data": {"type": "object", "description": "The BillRun payload, normalised to typed JSON."},
        },
        "required": ["id", "type", "timestamp", "data"],
        "additionalProperties": False,
    }
    return {"common/types.json": types, "common/envelope.json": env}


def _entities() -> dict[str, Document]:
    docs = {}
    for module, (description, props) in ENTITY_FIELDS.items():
        path = f"entities/{module}.json"
        noun = next(e.noun for e in ENTITIES if e.module == module)
        docs[path] = {**_head(path, noun, description), "type": "object", "properties": props}
    return docs


def _documents() -> dict[str, Document]:
    docs = {}
    for name, (description, props, required) in DOCUMENT_FIELDS.items():
        path = f"documents/{name}.json"
        doc: Document = {
            **_head(path, name.replace("_", " ").capitalize(), description),
            "type": "object",
            "properties": props,
        }
        if required:
            doc["required"] = list(required)
        docs[path] = doc
    return docs


def _event_document(entry: dict[str, Any], type_schema: Schema, data: Schema, examples: list[Document]) -> Document:
    doc = _head(entry["schema"], entry["title"], entry["description"])
    doc.update(
        {
            "type": "object",
            "allOf": [{"$ref": ENVELOPE}],
            "properties": {"type": type_schema, "data": data},
            "examples": examples,
        }
    )
    return doc


def _timestamp(index: int) -> str:
    return f"2024-03-01T09:{index // 60 % 60:02d}:{index % 60:02d}Z"


def _concrete_samples(entry: dict[str, Any]) -> list[Document]:
    """Payloads of a concrete type: the hook's samples, or the derived change and any extra ones."""
    type_name = entry["type"]
    if type_name in HOOK_SAMPLES:
        return HOOK_SAMPLES[type_name]
    return [entity_change_sample(entry["module"], entry["action"]), *EXTRA_CHANGE_SAMPLES.get(type_name, [])]


GENERIC_DATA: Schema = {
    "type": "object",
    "description": "The BillRun payload, normalised: declared fields typed,"
    " dates in ISO 8601 UTC, numeric-keyed maps as lists, other values as BillRun sent them.",
}


def _wildcard(entry: dict[str, Any], concrete: list[dict[str, Any]], index: int) -> Document:
    """The schema of ``<module>.*`` or ``*``: any action, with samples of the known ones."""
    module = entry["module"]
    if module == ALL_TYPES:
        shown = [e for e in concrete if e["important"]][:3]
        type_schema: Schema = {"type": "string", "description": "Any event type, <module>.<action>."}
    else:
        shown = [e for e in concrete if e["module"] == module][:2]
        type_schema = {
            "type": "string",
            "pattern": f"^{module}\\..+$",
            "description": f"{module}.<action>: any action of the module.",
        }
    examples = [envelope(e["type"], _concrete_samples(e)[0], _timestamp(index)) for e in shown]
    data = GENERIC_DATA
    if module == "collection":  # every collection event carries a step; custom steps are the point
        steps = [f"collection.{CUSTOM_STEP_NAME}", f"collection.{FREE_TEXT_STEP_NAME}"]
        examples = [envelope(t, d, _timestamp(index)) for t in steps for d in HOOK_SAMPLES[t]] + examples[:1]
        type_schema = {
            "type": "string",
            "pattern": "^collection\\..+$",
            "description": "collection.in_collection, collection.out_of_collection or"
            " collection.<step name> for a custom dunning step.",
        }
        data = PAYLOADS[CUSTOM_STEP_DOCUMENT]
    return _event_document(entry, type_schema, data, examples)


def _events(catalog: Document) -> dict[str, Document]:
    hooks = {f"{h.module}.{h.action}": h for h in HOOKS}
    concrete = [e for e in catalog["events"] if e["kind"] == "event"]
    docs = {}
    for index, entry in enumerate(catalog["events"]):
        type_name, module = entry["type"], entry["module"]
        if entry["kind"] == "group":
            expands = entry["expands_to"]
            shown = [t for t in expands if t.split(".", 1)[1] in ("create", "update")] or expands[:1]
            examples = [envelope(t, entity_change_sample(module, t.split(".", 1)[1]), _timestamp(index)) for t in shown]
            type_schema: Schema = {"enum": expands, "description": "The concrete change action."}
            docs[entry["schema"]] = _event_document(
                entry, type_schema, entity_change(module, ("modifiedUser",)), examples
            )
            continue
        if entry["kind"] in ("module", "all"):
            docs[entry["schema"]] = _wildcard(entry, concrete, index)
            continue
        examples = [envelope(type_name, d, _timestamp(index)) for d in _concrete_samples(entry)]
        if type_name in hooks:
            data = PAYLOADS[hooks[type_name].document]
        else:
            data = entity_change(module, change_required(module, entry["action"]))
        docs[entry["schema"]] = _event_document(entry, {"const": type_name}, data, examples)
    return docs


def build_schemas() -> dict[str, Document]:
    """Every file of ``schemas/``, keyed by its path relative to that folder."""
    catalog = catalog_document()
    return {"catalog.json": catalog, **_common(), **_entities(), **_documents(), **_events(catalog)}


def render(document: Document) -> str:
    """The exact text written for *document*."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
