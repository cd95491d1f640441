"""Dereferenced views of JSON Schemas, built once when the catalog loads.

Resolving ``$ref`` through a :mod:`referencing` registry costs URL joins and JSON-pointer walks
at every step of every request. :class:`SchemaView` does that work once: :meth:`SchemaView.inline`
gives a schema with every ``$ref`` replaced by its target and ``allOf`` merged into its parent
where that keeps the meaning (what the validator compiles), and :class:`SchemaNode` gives, at
each place of a value, what a walker of the value needs (declared types, ``date-time``, the
nodes of members and items) without knowing about ``$ref`` or ``allOf`` at all.

A reference that leads back into itself (a recursive schema) stays a ``$ref`` to its absolute
URI: the validator resolves it through the registry, and :class:`SchemaNode` follows it to the
same node, so walking a finite value always ends.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from urllib.parse import urljoin

from referencing import Registry

# Keywords that say nothing about validity, and keywords that mean nothing once references are
# inlined; both are left out of an inlined schema.
ANNOTATIONS = frozenset(
    {"title", "description", "examples", "default", "$comment", "deprecated", "readOnly", "writeOnly"}
)
RESOURCE_KEYWORDS = frozenset({"$id", "$schema", "$defs", "definitions", "$anchor", "$vocabulary"})
UNSUPPORTED = frozenset({"$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor"})
# Keywords whose subschemas sit in a map, in a list, or alone.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "prefixItems"})
_SCHEMA_SINGLE = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "additionalItems",
    }
)
# Keywords that read each other within one schema object: two schemas are merged only when at most
# one of them uses each group (``additionalProperties`` depends on the ``properties`` beside it).
_COUPLED = (
    frozenset({"properties", "patternProperties", "additionalProperties"}),
    frozenset({"prefixItems", "items", "additionalItems"}),
    frozenset({"contains", "minContains", "maxContains"}),
    frozenset({"if", "then", "else"}),
    frozenset({"unevaluatedProperties", "unevaluatedItems"}),
)


class SchemaViewError(ValueError):
    """A schema uses a keyword the view cannot inline faithfully."""


def _mergeable(left: dict[str, Any], right: dict[str, Any]) -> bool:
    keys, other = left.keys(), right.keys()
    if keys & other:
        return False
    return not any(group & keys and group & other for group in _COUPLED)


def _merge(parts: list[Any]) -> Any:
    """``allOf`` of *parts* as one schema object where the keywords do not meet, else a residual ``allOf``."""
    merged: dict[str, Any] = dict(parts[0])
    rest: list[Any] = []
    for part in parts[1:]:
        if part is True or part == {}:
            continue
        if isinstance(part, dict) and _mergeable(merged, part):
            merged.update(part)
        else:
            rest.append(part)
    if rest:
        merged["allOf"] = [*merged.get("allOf", ()), *rest]
    return merged


class SchemaView:
    """Inlined schemas and walking nodes of the documents of one registry (all loaded, no network)."""

    def __init__(self, registry: Registry) -> None:
        self._resolver = registry.resolver()
        self._inlined: dict[str, Any] = {}
        self._nodes: dict[int, SchemaNode] = {}

    def inline(self, uri: str) -> Any:
        """The schema at absolute *uri* (a fragment allowed) with references and ``allOf`` resolved; memoised."""
        return self._target(uri, frozenset())

    def _target(self, uri: str, active: frozenset[str]) -> Any:
        """The inlined target of a reference, shared by every place that refers to it.

        Any inlining of a schema means the same as the schema (a reference kept for recursion
        still resolves to it), so the first one made is kept whatever path led to it.
        """
        if uri not in self._inlined:
            resolved = self._resolver.lookup(uri)
            self._inlined[uri] = self._inline(resolved.contents, uri.split("#", 1)[0], active | {uri})
        return self._inlined[uri]

    def node(self, schema: Any) -> SchemaNode:
        """The walking node of an inlined schema (one per schema object, so recursion meets itself)."""
        key = id(schema)
        if key not in self._nodes:
            self._nodes[key] = SchemaNode(self, schema)
        return self._nodes[key]

    def facets(self, schema: Any) -> list[dict[str, Any]]:
        """An inlined schema and the schemas its residual ``allOf`` and ``$ref`` stand for, each once."""
        found: list[dict[str, Any]] = []
        pending = [schema]
        while pending:
            current = pending.pop()
            if not isinstance(current, dict) or any(current is seen for seen in found):
                continue  # a reference that only leads back to itself adds nothing
            found.append(current)
            pending += reversed(current.get("allOf", ()))
            if "$ref" in current:
                pending.append(self.inline(current["$ref"]))
        return found

    def _inline(self, schema: Any, base: str, active: frozenset[str]) -> Any:
        if not isinstance(schema, dict):
            return schema
        if "$id" in schema:
            base = urljoin(base, schema["$id"])
        unsupported = UNSUPPORTED & schema.keys()
        if unsupported:
            raise SchemaViewError(f"cannot inline a schema using {', '.join(sorted(unsupported))}")
        own: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ANNOTATIONS or key in RESOURCE_KEYWORDS or key in ("$ref", "allOf"):
                continue
            if key in _SCHEMA_MAPS:
                own[key] = {name: self._inline(sub, base, active) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS:
                own[key] = [self._inline(sub, base, active) for sub in value]
            elif key in _SCHEMA_SINGLE:
                own[key] = self._inline(value, base, active)
            else:
                own[key] = value
        parts: list[Any] = [own]
        if "$ref" in schema:
            target = urljoin(base, schema["$ref"])
            if target in active:  # recursion: keep the reference, resolved by absolute URI
                parts.append({"$ref": target})
            else:
                parts.append(self._target(target, active))
        parts += [self._inline(part, base, active) for part in schema.get("allOf", ())]
        return _merge(parts)


def _declared_types(schema: dict[str, Any]) -> tuple[str, ...] | None:
    """The JSON types one schema object allows: its ``type``, or the types of an ``anyOf`` whose
    branches each declare one (how the catalog writes "an integer or a string"); None if it says nothing."""
    declared = schema.get("type")
    if declared is not None:
        return (declared,) if isinstance(declared, str) else tuple(declared)
    branches = schema.get("anyOf")
    if not branches or not all(isinstance(branch, dict) and "type" in branch for branch in branches):
        return None
    return tuple(dict.fromkeys(kind for branch in branches for kind in _declared_types(branch) or ()))


class SchemaNode:
    """What walking a value needs at one place of a schema, computed on first use and kept.

    Only the declared properties and the one ``additionalProperties`` schema get nodes, so
    arbitrary member names in payloads never grow the view.
    """

    def __init__(self, view: SchemaView, schema: Any) -> None:
        self.schema = schema
        self._view = view
        self._facets = view.facets(schema)
        self._members: dict[str, SchemaNode | None] = {}

    @cached_property
    def types(self) -> tuple[str, ...]:
        """The declared JSON types, in declaration order (narrowed when several parts declare some)."""
        kinds: tuple[str, ...] | None = None
        for facet in self._facets:
            mine = _declared_types(facet)
            if mine is None:
                continue
            kinds = mine if kinds is None else tuple(kind for kind in kinds if kind in mine)
        return kinds or ()

    @cached_property
    def date_time(self) -> bool:
        """The value is a ``date-time``."""
        return any(facet.get("format") == "date-time" for facet in self._facets)

    @cached_property
    def keeps_strings(self) -> bool:
        """A string here stays as it is: not a ``date-time``, and no number or boolean type to read it as."""
        return not self.date_time and not {"integer", "number", "boolean"}.intersection(self.types)

    @cached_property
    def items(self) -> SchemaNode | None:
        """The node of the items of an array, or None when the schema says nothing about them."""
        return self._combined([facet["items"] for facet in self._facets if "items" in facet])

    @cached_property
    def additional(self) -> SchemaNode | None:
        """The node of members not declared in ``properties``."""
        extra = [f["additionalProperties"] for f in self._facets if isinstance(f.get("additionalProperties"), dict)]
        return self._combined(extra)

    @cached_property
    def declared(self) -> frozenset[str]:
        """The member names declared in ``properties``."""
        return frozenset(name for facet in self._facets for name in facet.get("properties", {}))

    def member(self, name: str) -> SchemaNode | None:
        """The node of member *name* of an object, or None when the schema says nothing about it."""
        if name not in self.declared:
            return self.additional
        if name not in self._members:
            self._members[name] = self._combined(
                [facet["properties"][name] for facet in self._facets if name in facet.get("properties", {})]
            )
        return self._members[name]

    def _combined(self, schemas: list[Any]) -> SchemaNode | None:
        if not schemas:
            return None
        return self._view.node(schemas[0] if len(schemas) == 1 else {"allOf": schemas})
