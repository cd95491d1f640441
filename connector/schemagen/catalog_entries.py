"""Builds the entries of ``schemas/catalog.json`` from :mod:`connector.schemagen.spec`.

The file also lists the everyday triggers (``everyday``) that automation apps offer by name.

Kinds: ``event`` (a concrete type), ``group`` (``<entity>.trackchanges``: every change action of
an entity), ``module`` (``<module>.*``: every action of a module, known to the catalog or not) and
``all`` (``*``: everything).
"""

from __future__ import annotations

from typing import Any

from connector.schemagen.spec import (
    ACTION_DESCRIPTIONS,
    ACTION_TITLES,
    ALL_TYPES,
    ANY_ACTION,
    CUSTOM_STEP_PATTERN,
    ENTITIES,
    EVERYDAY,
    GROUPS,
    HOOKS,
    IMPORTANT,
    MODULE_NOUNS,
    TYPE_DESCRIPTIONS,
    Entity,
    Firing,
    HookType,
    key_for,
)

CATALOG_VERSION = 1


def schema_path(module: str, action: str) -> str:
    """Path of a type's schema, relative to ``schemas/`` (wildcards: ``<module>.any``, ``any``)."""
    if module == ALL_TYPES:
        return "events/any.json"
    if action == ANY_ACTION:
        return f"events/{module}.any.json"
    return f"events/{module}.{action}.json"


def _entry(
    module: str, action: str, group: str, kind: str, title: str, noun: str, description: str, firing: Firing
) -> dict[str, Any]:
    type_name = ALL_TYPES if module == ALL_TYPES else f"{module}.{action}"
    entry = {
        "type": type_name,
        "key": key_for(module, action),
        "module": module,
        "action": action,
        "group": group,
        "kind": kind,
        "title": title,
        "noun": noun,
        "description": description,
        "fired_by_billrun": firing.fired,
        "important": type_name in IMPORTANT,
        "schema": schema_path(module, action),
        "billrun_source": list(firing.sources),
    }
    if firing.never:
        entry["never_fired_because"] = firing.never
    return entry


def _entity_entries(entity: Entity) -> list[dict[str, Any]]:
    what = entity.what
    entries = []
    for action in entity.actions:
        type_name = f"{entity.module}.{action}"
        description = TYPE_DESCRIPTIONS.get(type_name) or ACTION_DESCRIPTIONS[action].format(
            what=what, What=what[0].upper() + what[1:]
        )
        title = ACTION_TITLES[action].format(noun=entity.noun)
        entries.append(
            _entry(entity.module, action, entity.group, "event", title, entity.noun, description, entity.fired(action))
        )
    fired = [action for action in entity.actions if entity.fired(action).fired]
    group = _entry(
        entity.module,
        "trackchanges",
        entity.group,
        "group",
        f"Any {entity.noun} Change",
        entity.noun,
        f"Any change to {what} ({', '.join(entity.actions)}): BillRun fires each action as its own"
        " event; this entry subscribes to all of them.",
        Firing(tuple(dict.fromkeys(s for a in fired for s in entity.fired(a).sources))),
    )
    group["expands_to"] = [f"{entity.module}.{action}" for action in entity.actions]
    entries.append(group)
    return entries


def _hook_entry(hook: HookType) -> dict[str, Any]:
    return _entry(hook.module, hook.action, hook.group, "event", hook.title, hook.noun, hook.description, hook.firing)


def _module_entries(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``<module>.*`` for every module, then ``*``."""
    modules: dict[str, list[dict[str, Any]]] = {}
    for entry in events:
        modules.setdefault(entry["module"], []).append(entry)
    wildcards = []
    for module, entries in modules.items():
        concrete = [e for e in entries if e["kind"] == "event"]
        noun = MODULE_NOUNS.get(module) or concrete[0]["noun"]
        actions = ", ".join(e["action"] for e in concrete)
        if module == "collection":
            description = (
                "Every collection event: in_collection, out_of_collection and every custom dunning"
                " step, which arrives as collection.<step name> (the configured step name, any text)."
            )
        else:
            description = (
                f"Every event of BillRun's {module} module: {actions}, and any action this catalog does not know yet."
            )
        sources = tuple(dict.fromkeys(s for e in concrete if e["fired_by_billrun"] for s in e["billrun_source"]))
        entry = _entry(
            module, ANY_ACTION, entries[-1]["group"], "module", f"Any {noun} Event", noun, description, Firing(sources)
        )
        if module == "collection":
            entry["action_pattern"] = CUSTOM_STEP_PATTERN
        wildcards.append(entry)
    everything = _entry(
        ALL_TYPES,
        ANY_ACTION,
        "any",
        "all",
        "Any BillRun Event",
        "Event",
        "Every event BillRun sends, whether this catalog knows its type or not.",
        Firing(()),
    )
    return [*wildcards, everything]


def _everyday_entries(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The everyday triggers, each naming only types of the catalog that BillRun fires."""
    fired = {entry["type"] for entry in events if entry["fired_by_billrun"]}
    entries = []
    for trigger in EVERYDAY:
        unknown = [name for name in trigger.events if name not in fired]
        if unknown:
            raise ValueError(f"everyday trigger {trigger.key}: {unknown} are not fired types of the catalog")
        entries.append(
            {
                "key": trigger.key,
                "label": trigger.label,
                "noun": trigger.noun,
                "description": trigger.description,
                "events": list(trigger.events),
            }
        )
    return entries


def catalog_document() -> dict[str, Any]:
    """The whole catalog file, as written to ``schemas/catalog.json``."""
    events: list[dict[str, Any]] = []
    for entity in ENTITIES:
        if entity.module == "bills":
            continue  # listed with the bills hooks below
        events.extend(_entity_entries(entity))
    bills = next(entity for entity in ENTITIES if entity.module == "bills")
    events.extend(_hook_entry(hook) for hook in HOOKS if hook.module == "bills")
    events.extend(_entity_entries(bills))
    events.extend(_hook_entry(hook) for hook in HOOKS if hook.module != "bills")
    events.extend(_module_entries(events))
    order = {group_id: index for index, (group_id, _) in enumerate(GROUPS)}
    events.sort(key=lambda entry: order[entry["group"]])  # stable: catalog order inside each group
    return {
        "version": CATALOG_VERSION,
        "groups": [{"id": group_id, "title": title} for group_id, title in GROUPS],
        "events": events,
        "everyday": _everyday_entries(events),
    }
