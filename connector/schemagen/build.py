"""Turns the compact definition into the files of ``schemas/`` (path -> JSON document)."""

from __future__ import annotations

import json
from typing import Any

from connector.schemagen.catalog_entries import catalog_document
from connector.schemagen.dsl import Schema, ref
from connector.schemagen.fields import (
    CHANGE_REQUIRED,
    COMMON_TYPES,
    DOCUMENT_DEFS,
    DOCUMENT_FIELDS,
    ENTITY_FIELDS,
    ENTITY_REQUIRED,
    PAYLOADS,
    entity_change,
)
from connector.schemagen.samples import HOOK_SAMPLES, CUSTOM_STEP_NAME, envelope, entity_change_sample
from connector.schemagen.spec import CUSTOM_STEP_PATTERN, ENTITIES, FAMILY, HOOKS

BASE_URI = "https://billrun-connector.invalid/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE = "../common/envelope.json"

Document = dict[str, Any]


def _head(path: str, title: str, description: str) -> Document:
    return {"$schema": DRAFT, "$id": BASE_URI + path, "title": title, "description": description}


def _common() -> dict[str, Document]:
    types = {**_head("common/types.json", "Shared definitions",
                     "Dates, money, ids and small structures used by every BillRun document."),
             "$defs": COMMON_TYPES}
    env = {
        **_head("common/envelope.json", "Delivery envelope",
                "Every delivery and sample: the event id, its concrete type, when the connector received it,"
                " and the normalised BillRun payload."),
        "type": "object",
        "properties": {
            "id": ref("types.json#/$defs/event_id"),
            "type": {"type": "string", "pattern": r"^[a-z_]+\.[A-Za-z0-9_ .-]+$",
                     "description": "The event type, <module>.<action> with BillRun's names."},
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
        doc: Document = {**_head(path, name.replace("_", " ").capitalize(), description),
                         "type": "object", "properties": props}
        if required:
            doc["required"] = list(required)
        if name in DOCUMENT_DEFS:
            doc["$defs"] = DOCUMENT_DEFS[name]
        docs[path] = doc
    return docs


def _event_document(entry: dict[str, Any], type_schema: Schema, data: Schema,
                    examples: list[Document]) -> Document:
    doc = _head(entry["schema"], entry["title"], entry["description"])
    doc.update({
        "allOf": [{"$ref": ENVELOPE}],
        "properties": {"type": type_schema, "data": data},
        "examples": examples,
    })
    return doc


def _timestamp(index: int) -> str:
    return f"2024-03-01T09:{index // 60 % 60:02d}:{index % 60:02d}Z"


def _events(catalog: Document) -> dict[str, Document]:
    hooks = {f"{h.module}.{h.action}": h for h in HOOKS}
    docs = {}
    for index, entry in enumerate(catalog["events"]):
        type_name, module, action = entry["type"], entry["module"], entry["action"]
        if entry["kind"] == "group":
            expands = entry["expands_to"]
            shown = [t for t in expands if t.split(".", 1)[1] in ("create", "update")] or expands[:1]
            examples = [envelope(t, entity_change_sample(module, t.split(".", 1)[1]), _timestamp(index))
                        for t in shown]
            type_schema = {"enum": expands, "description": "The concrete change action."}
            data = entity_change(module, ("modifiedUser",))
        elif entry["kind"] == "family":
            concrete = f"{module}.{CUSTOM_STEP_NAME}"
            examples = [envelope(concrete, d, _timestamp(index)) for d in HOOK_SAMPLES[concrete]]
            type_schema = {"type": "string", "pattern": rf"^{module}\.{CUSTOM_STEP_PATTERN.lstrip('^')}",
                           "description": "collection.<step name>, the name of the configured dunning step."}
            data = PAYLOADS[FAMILY.document]
        elif type_name in hooks:
            examples = [envelope(type_name, d, _timestamp(index)) for d in HOOK_SAMPLES[type_name]]
            type_schema = {"const": type_name}
            data = PAYLOADS[hooks[type_name].document]
        else:
            examples = [envelope(type_name, entity_change_sample(module, action), _timestamp(index))]
            type_schema = {"const": type_name}
            data = entity_change(module, ENTITY_REQUIRED.get(action, CHANGE_REQUIRED))
        docs[entry["schema"]] = _event_document(entry, type_schema, data, examples)
    return docs


def build_schemas() -> dict[str, Document]:
    """Every file of ``schemas/``, keyed by its path relative to that folder."""
    catalog = catalog_document()
    return {"catalog.json": catalog, **_common(), **_entities(), **_documents(), **_events(catalog)}


def render(document: Document) -> str:
    """The exact text written for *document*."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
