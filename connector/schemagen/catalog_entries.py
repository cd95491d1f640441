"""Builds the entries of ``schemas/catalog.json`` from :mod:`connector.schemagen.spec`."""

from __future__ import annotations

from typing import Any

from connector.schemagen.spec import (
    ACTION_DESCRIPTIONS,
    ACTION_TITLES,
    CUSTOM_STEP_PATTERN,
    ENTITIES,
    FAMILY,
    GROUPS,
    HOOKS,
    IMPORTANT,
    Entity,
    HookType,
    key_for,
)

CATALOG_VERSION = 1
FAMILY_SCHEMA = "events/collection.step_family.json"


def schema_path(type_name: str) -> str:
    """Path of a concrete or group type's schema, relative to ``schemas/``."""
    return f"events/{type_name}.json"


def _entry(module: str, action: str, group: str, kind: str, title: str, noun: str, description: str,
           fired: bool, schema: str) -> dict[str, Any]:
    type_name = f"{module}.{action}"
    return {
        "type": type_name,
        "key": key_for(module, action),
        "module": module,
        "action": action,
        "group": group,
        "kind": kind,
        "title": title,
        "noun": noun,
        "description": description,
        "fired_by_billrun": fired,
        "important": type_name in IMPORTANT,
        "schema": schema,
    }


def _entity_entries(entity: Entity) -> list[dict[str, Any]]:
    what = entity.what
    entries = []
    for action in entity.actions:
        description = ACTION_DESCRIPTIONS[action].format(what=what, What=what[0].upper() + what[1:])
        title = ACTION_TITLES[action].format(noun=entity.noun)
        entries.append(_entry(entity.module, action, "entities", "event", title, entity.noun, description, True,
                              schema_path(f"{entity.module}.{action}")))
    group = _entry(
        entity.module, "trackchanges", "entities", "group", f"Any {entity.noun} Change", entity.noun,
        f"Any billapi change to {what} ({', '.join(entity.actions)}): BillRun fires each action as its own"
        " event; this entry subscribes to all of them.",
        True, schema_path(f"{entity.module}.trackchanges"))
    group["expands_to"] = [f"{entity.module}.{action}" for action in entity.actions]
    entries.append(group)
    return entries


def _hook_entry(hook: HookType) -> dict[str, Any]:
    return _entry(hook.module, hook.action, hook.group, "event", hook.title, hook.noun, hook.description,
                  hook.fired_by_billrun, schema_path(f"{hook.module}.{hook.action}"))


def catalog_document() -> dict[str, Any]:
    """The whole catalog file, as written to ``schemas/catalog.json``."""
    events: list[dict[str, Any]] = []
    for entity in ENTITIES:
        events.extend(_entity_entries(entity))
    events.extend(_hook_entry(hook) for hook in HOOKS)
    family = _entry(FAMILY.module, FAMILY.action, FAMILY.group, "family", FAMILY.title, FAMILY.noun,
                    FAMILY.description, True, FAMILY_SCHEMA)
    family["action_pattern"] = CUSTOM_STEP_PATTERN
    events.append(family)
    return {
        "version": CATALOG_VERSION,
        "groups": [{"id": group_id, "title": title} for group_id, title in GROUPS],
        "events": events,
    }
