"""The event catalog: every BillRun event type, its JSON Schema, samples and validation.

``schemas/catalog.json`` lists the types; every document under ``schemas/`` is loaded once into
a :mod:`referencing` registry (no network). Each type's schema is dereferenced once (see
:mod:`connector.schema_view`): its validators are compiled from the inlined schema, and the wire
normaliser and encoder walk payloads along the same view (:meth:`Catalog.data_schema`).
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import os
import re
import sysconfig
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from connector.schema_view import SchemaNode, SchemaView, SchemaViewError

SCHEMAS_DIR_ENV = "BILLRUN_CONNECTOR_SCHEMAS_DIR"
DISTRIBUTION = "billrun-connector"
INSTALLED_CATALOG = "share/billrun-connector/schemas/catalog.json"
CATALOG_FILE = "catalog.json"
ENVELOPE_FILE = "common/envelope.json"
MAX_MESSAGE = 300


class CatalogError(RuntimeError):
    """The schema folder is missing or inconsistent."""


ALL = "*"
ANY_ACTION = "*"
MAX_ACTION = 255  # a custom collection step name: free text of up to 255 characters
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnknownEventType(LookupError):
    """The name is not an event type of the catalog (or not one of the kind asked for).

    The message says what is wrong, the closest name when there is one and *detail* (what would be
    valid); each interface adds where the list is (``GET /api/v1/events``, ``billrun-connector
    catalog``). Made by :meth:`Catalog.unknown`.
    """

    def __init__(self, type_name: object, suggestion: str | None = None, reason: str = "", detail: str = "") -> None:
        message = reason or f"unknown event type {type_name!r}"
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        if detail:
            message += f" ({detail})"
        super().__init__(message)
        self.type_name = type_name
        self.suggestion = suggestion

    def __str__(self) -> str:
        return str(self.args[0])


def well_formed_action(action: str) -> bool:
    """An action BillRun could send: 1 to 255 characters, no control characters (step names are free text)."""
    return 0 < len(action) <= MAX_ACTION and not _CONTROL.search(action)


def well_formed_module(module: str) -> bool:
    """A module name: 1 to 100 characters, no dot, no whitespace or control characters."""
    return 0 < len(module) <= 100 and "." not in module and not re.search(r"[\s\x00-\x1f\x7f]", module)


@dataclass(frozen=True)
class EventType:
    """One entry of the catalog."""

    type: str
    key: str
    module: str
    action: str
    group: str
    kind: str  # "event", "group" (<entity>.trackchanges), "module" (<module>.*) or "all" (*)
    title: str
    noun: str
    description: str
    fired_by_billrun: bool
    important: bool
    schema_path: str
    expands_to: tuple[str, ...] = ()
    action_pattern: str | None = None  # collection.*: what a custom step name may be
    billrun_source: tuple[str, ...] = ()
    never_fired_because: str | None = None


@dataclass(frozen=True)
class ValidationIssue:
    """One validation error: a JSON path such as ``$.after.aid`` and a message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# The quick check asserts exactly the formats the full validator checks, with the same functions.
_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER
_QUICK_FORMATS = {name: functools.partial(_FORMAT_CHECKER.conforms, format=name) for name in _FORMAT_CHECKER.checkers}


class _SchemaValidator:
    """Every error of an instance against one inlined schema, cheaply when there is none.

    Most payloads are valid. A compiled :mod:`jsonschema_rs` validator (the same draft) says so
    in microseconds; only an instance it rejects is walked by :mod:`jsonschema`, which reports
    every error with its JSON path and the messages users see. The quick check asserts the
    formats the full walk checks, with the same functions; where it is stricter (it also checks
    RFC 3339 date-times) the full walk has the last word. tests/catalog/test_schema_view.py
    compares the verdicts with the registry-resolved schemas on every sample and hundreds of
    broken payloads.
    """

    def __init__(self, schema: Any, registry: Registry, quick_registry: jsonschema_rs.Registry) -> None:
        self._schema = schema
        self._registry = registry
        self._quick_registry = quick_registry

    # Compiled on first use: a command that loads the catalog for one type pays for that type only.
    @cached_property
    def _full(self) -> Draft202012Validator:
        return Draft202012Validator(self._schema, registry=self._registry, format_checker=_FORMAT_CHECKER)

    @cached_property
    def _quick(self) -> jsonschema_rs.Validator:
        return jsonschema_rs.Draft202012Validator(
            self._schema, registry=self._quick_registry, validate_formats=True, formats=_QUICK_FORMATS, offline=True
        )

    def issues(self, instance: Any) -> list[ValidationIssue]:
        try:
            if self._quick.is_valid(instance):
                return []
        except (ValueError, TypeError, OverflowError):  # not plain JSON data: the full walk decides
            pass
        found = {_issue(error) for error in self._full.iter_errors(instance)}
        return sorted(found, key=lambda issue: (issue.path, issue.message))


@dataclass
class _Compiled:
    envelope: _SchemaValidator
    data: _SchemaValidator
    data_schema: SchemaNode
    schema: dict[str, Any]


def _installed_schemas_dir() -> Path | None:
    """The copy a wheel installs as data files (``<prefix>/share/billrun-connector/schemas``)."""
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        files = []
    candidates = [Path(str(file.locate())) for file in files if file.as_posix().endswith(INSTALLED_CATALOG)]
    candidates.append(Path(sysconfig.get_path("data")) / INSTALLED_CATALOG)
    return next((c.parent for c in candidates if c.is_file()), None)


def find_schemas_dir() -> Path:
    """``$BILLRUN_CONNECTOR_SCHEMAS_DIR``, else the source checkout's ``schemas/``, else the installed copy."""
    override = os.environ.get(SCHEMAS_DIR_ENV)
    if override:
        return Path(override)
    checkout = Path(__file__).resolve().parents[1] / "schemas"
    if (checkout / CATALOG_FILE).is_file():
        return checkout
    installed = _installed_schemas_dir()
    if installed is not None:
        return installed
    raise CatalogError(f"cannot find the schemas folder; set {SCHEMAS_DIR_ENV}")


def _issue(error: ValidationError) -> ValidationIssue:
    message = error.message
    if isinstance(error.schema, dict) and error.schema.get("format") == "date-time":
        message = f"{error.instance!r} is not an ISO 8601 UTC date-time such as 2024-01-31T00:00:00Z"
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return ValidationIssue(error.json_path, message)


class Catalog:
    """The catalog read from one schemas folder."""

    def __init__(self, schemas_dir: str | Path | None = None) -> None:
        self.schemas_dir = Path(schemas_dir) if schemas_dir is not None else find_schemas_dir()
        catalog_path = self.schemas_dir / CATALOG_FILE
        try:
            self.document: dict[str, Any] = json.loads(catalog_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CatalogError(f"cannot read {catalog_path}: {exc}") from exc
        self._uris: dict[str, str] = {}
        self._documents: list[tuple[str, Any]] = []
        self.registry = self._load_registry()
        self._quick_registry = jsonschema_rs.Registry(self._documents)
        self._view = SchemaView(self.registry)
        self._types: dict[str, EventType] = {}
        self._pairs: dict[tuple[str, str], str] = {}
        self._group_of: dict[str, str] = {}
        self._wildcards: dict[str, EventType] = {}  # module -> <module>.*, and "*" -> *
        self._steps: EventType | None = None  # the module wildcard whose unknown actions are custom steps
        self._compiled: dict[str, _Compiled] = {}
        for entry in self.document["events"]:
            self._add(entry)
        self._envelope = self._validator(self._inline(self._uri(ENVELOPE_FILE)))
        pattern = self._steps.action_pattern if self._steps else None
        self._step_pattern = re.compile(pattern) if pattern else None

    # -- loading ---------------------------------------------------------------------------------

    def _load_registry(self) -> Registry:
        resources = []
        for path in sorted(self.schemas_dir.rglob("*.json")):
            relative = path.relative_to(self.schemas_dir).as_posix()
            if relative == CATALOG_FILE:
                continue
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CatalogError(f"cannot read schema {path}: {exc}") from exc
            uri = document.get("$id")
            if not isinstance(uri, str):
                raise CatalogError(f"schema {relative} has no $id")
            self._uris[relative] = uri
            self._documents.append((uri, document))
            resources.append((uri, DRAFT202012.create_resource(document)))
        return Registry().with_resources(resources).crawl()

    def _uri(self, relative: str) -> str:
        try:
            return self._uris[relative]
        except KeyError:
            raise CatalogError(f"schema file {relative} is missing") from None

    def _inline(self, uri: str) -> Any:
        try:
            return self._view.inline(uri)
        except SchemaViewError as exc:
            raise CatalogError(f"{uri}: {exc}") from exc

    def _validator(self, schema: Any) -> _SchemaValidator:
        """A validator of an inlined schema; the registries only serve recursive references."""
        return _SchemaValidator(schema, self.registry, self._quick_registry)

    def _add(self, entry: dict[str, Any]) -> None:
        event_type = EventType(
            type=entry["type"],
            key=entry["key"],
            module=entry["module"],
            action=entry["action"],
            group=entry["group"],
            kind=entry["kind"],
            title=entry["title"],
            noun=entry["noun"],
            description=entry["description"],
            fired_by_billrun=entry["fired_by_billrun"],
            important=entry["important"],
            schema_path=entry["schema"],
            expands_to=tuple(entry.get("expands_to", ())),
            action_pattern=entry.get("action_pattern"),
            billrun_source=tuple(entry.get("billrun_source", ())),
            never_fired_because=entry.get("never_fired_because"),
        )
        self._types[event_type.type] = event_type
        if event_type.kind == "event":
            self._pairs[(event_type.module.lower(), event_type.action.lower())] = event_type.type
        for concrete in event_type.expands_to:
            self._group_of[concrete] = event_type.type
        if event_type.kind == "module":
            self._wildcards[event_type.module] = event_type
            if event_type.action_pattern:
                self._steps = event_type
        elif event_type.kind == "all":
            self._wildcards[ALL] = event_type
        uri = self._uri(event_type.schema_path)
        data = self._view.node(self._inline(f"{uri}#/properties/data"))
        self._compiled[event_type.type] = _Compiled(
            envelope=self._validator(self._inline(uri)),
            data=self._validator(data.schema),
            data_schema=data,
            schema=self.registry.contents(uri),
        )

    # -- lookups ---------------------------------------------------------------------------------

    def types(self) -> list[EventType]:
        """Every catalog entry, in catalog order."""
        return list(self._types.values())

    def modules(self) -> list[str]:
        """The BillRun modules the catalog knows, in catalog order."""
        return [module for module in self._wildcards if module != ALL]

    @staticmethod
    def split(type_name: str) -> tuple[str, str] | None:
        """``(module, action)`` of a concrete ``<module>.<action>`` name, or None when it is not one."""
        module, dot, action = type_name.partition(".")
        if not dot or not well_formed_module(module) or not well_formed_action(action):
            return None
        return module, action

    def _is_custom_step(self, type_name: str) -> bool:
        steps = self._steps
        if steps is None or self._step_pattern is None or type_name in self._types:
            return False
        prefix = steps.module + "."
        return type_name.startswith(prefix) and bool(self._step_pattern.match(type_name[len(prefix) :]))

    def get(self, type_name: str) -> EventType | None:
        """The entry of *type_name*; a custom collection step resolves to ``collection.*``."""
        if type_name in self._types:
            return self._types[type_name]
        return self._steps if self._is_custom_step(type_name) else None

    def knows(self, type_name: str) -> bool:
        """A concrete type of the catalog: a listed ``<module>.<action>`` or a custom collection step."""
        entry = self._types.get(type_name)
        return entry.kind == "event" if entry is not None else self._is_custom_step(type_name)

    def deliverable(self, type_name: str) -> bool:
        """A concrete type the connector's own APIs may publish (one the catalog knows)."""
        return self.knows(type_name)

    def subscribable(self, name: str) -> bool:
        """Valid in a subscription: a known type, a trackchanges group, ``<module>.*``, ``*``, a custom step."""
        return self.get(name) is not None

    def entry(self, name: str) -> EventType:
        """The entry of *name* (as :meth:`get`), else :class:`UnknownEventType` saying what was meant."""
        entry = self.get(name)
        if entry is None:
            raise self.unknown(name)
        return entry

    def check_subscribable(self, name: str) -> str:
        """*name* if one may subscribe to it, else :class:`UnknownEventType` saying what was meant."""
        self.entry(name)
        return name

    def check_deliverable(self, name: str) -> str:
        """*name* if an event may carry it (a concrete type), else :class:`UnknownEventType`."""
        if not self.deliverable(name):
            raise self.unknown(name, concrete=True)
        return name

    def unknown(self, name: str, *, concrete: bool = False) -> UnknownEventType:
        """The error for a name that is not an event type (or, with *concrete*, not a concrete one):
        why, and the closest name of that kind. Every interface that reads an event type uses it."""
        entry = self.get(name)
        module = name.partition(".")[0]
        if entry is not None and concrete:
            if entry.kind == "group":
                what = "any of " + ", ".join(entry.expands_to)
            elif entry.kind == "all":
                what = "every event"
            else:
                what = f"every action of {entry.module}"
            reason = f"{name!r} stands for {what}: name one event type (<module>.<action>)"
            return UnknownEventType(name, None, reason)
        suggestion = self._suggestion(name, concrete=concrete)
        if "." not in name:
            forms = "<module>.<action>" if concrete else "<module>.<action>, <module>.* or *"
            reason, detail = f"{name!r} is not an event type", f"use {forms}"
        elif module not in self._wildcards:
            reason = f"unknown event type {name!r}: no module {module!r}"
            detail = "" if suggestion else f"modules: {', '.join(self.modules())}"
        else:
            reason = f"unknown event type {name!r}"
            detail = "" if concrete else f"{module}.* receives every action of {module}, listed or not"
        return UnknownEventType(name, suggestion, reason, detail)

    def _suggestion(self, name: str, *, concrete: bool = False) -> str | None:
        """The catalog name closest to *name* (difflib), of concrete types only when *concrete*."""
        names = [t for t, entry in self._types.items() if not concrete or entry.kind == "event"]
        lowered = {candidate.lower(): candidate for candidate in names}
        if name.lower() in lowered:
            return lowered[name.lower()]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        return close[0] if close else None

    def type_for(self, module: str, action: str) -> str | None:
        """The catalog's name of a BillRun ``(module, action)`` pair (its case may differ), or ``None``."""
        exact = f"{module}.{action}"
        if self.knows(exact):
            return exact
        known = self._pairs.get((module.lower(), action.lower()))
        if known is not None:
            return known
        steps = self._steps
        if steps is not None and module.lower() == steps.module:
            candidate = f"{steps.module}.{action}"
            return candidate if self._is_custom_step(candidate) else None
        return None

    def subscription_keys(self, event_type: str) -> tuple[str, ...]:
        """What a subscription may name to receive an event of *event_type*, known to the catalog or not.

        The type itself, its trackchanges group, ``<module>.*`` and ``*``. An event whose action is
        the name of a group or a wildcard (BillRun never sends one) reaches the wildcards only.
        """
        parts = self.split(event_type)
        if parts is None:
            return ()
        entry = self._types.get(event_type)
        keys = [event_type] if entry is None or entry.kind == "event" else []
        if event_type in self._group_of:
            keys.append(self._group_of[event_type])
        wildcard = self._wildcards.get(parts[0])
        if wildcard is not None:
            keys.append(wildcard.type)
        if ALL in self._wildcards:
            keys.append(ALL)
        return tuple(dict.fromkeys(keys))

    def billrun_pairs(self, name: str) -> list[tuple[str, str]]:
        """The ``(module, action)`` pairs BillRun really fires that a subscription to *name* receives.

        What a BillRun webhook must be registered for: a known type (nothing when BillRun never fires
        it), a group's or a module's fired actions (``collection.*``: the two state changes, custom
        steps cannot be listed), every fired pair for ``*``, a custom step itself.
        """
        entry = self.get(name)
        if entry is None:
            return []
        if entry.kind == "module" and entry.type != name:  # a custom step
            parts = self.split(name)
            return [parts] if parts is not None else []
        if entry.kind == "event":
            members = [entry]
        elif entry.kind == "group":
            members = [self._types[t] for t in entry.expands_to]
        else:
            members = [
                e
                for e in self._types.values()
                if e.kind == "event" and (entry.kind == "all" or e.module == entry.module)
            ]
        return [(e.module, e.action) for e in members if e.fired_by_billrun]

    def _compiled_for(self, type_name: str) -> _Compiled:
        """A type's compiled schemas; a type the catalog does not know gets its module's or ``*``'s."""
        entry = self.get(type_name)
        if entry is None:
            parts = self.split(type_name)
            entry = (self._wildcards.get(parts[0]) or self._wildcards.get(ALL)) if parts is not None else None
        if entry is None:
            raise UnknownEventType(type_name)
        return self._compiled[entry.type]

    # -- schemas and samples ---------------------------------------------------------------------

    def schema(self, type_name: str) -> dict[str, Any]:
        """The schema document of a type (a custom step gets ``collection.*``'s)."""
        return copy.deepcopy(self._compiled_for(type_name).schema)

    def data_schema(self, type_name: str) -> SchemaNode:
        """The dereferenced schema of a type's payload (``properties.data``), for walking payloads."""
        return self._compiled_for(type_name).data_schema

    def samples(self, type_name: str) -> list[dict[str, Any]]:
        """Sample envelopes; a custom step's samples are the custom steps of ``collection.*``, renamed."""
        samples = copy.deepcopy(self._compiled_for(type_name).schema.get("examples", []))
        if not self._is_custom_step(type_name):
            return samples
        step = type_name.split(".", 1)[1]
        custom = [sample for sample in samples if self._is_custom_step(sample.get("type", ""))]
        for sample in custom:
            sample["type"] = type_name
            sample["data"]["step"]["step_code"] = step
        return custom

    # -- validation ------------------------------------------------------------------------------

    def validate_data(self, type_name: str, data: Any) -> list[ValidationIssue]:
        """Every error of *data* (the payload of *type_name*), paths relative to the payload."""
        return self._compiled_for(type_name).data.issues(data)

    def validate_envelope(self, envelope: Any) -> list[ValidationIssue]:
        """Every error of a whole delivery ``{id, type, timestamp, data}``."""
        type_name = envelope.get("type") if isinstance(envelope, dict) else None
        if isinstance(type_name, str) and (self.get(type_name) is not None or self.split(type_name) is not None):
            return self._compiled_for(type_name).envelope.issues(envelope)
        issues = self._envelope.issues(envelope)
        if isinstance(type_name, str):
            issues.append(ValidationIssue("$.type", f"unknown event type {type_name!r}"))
        return issues


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """The process-wide catalog, loaded on first use."""
    return Catalog()
