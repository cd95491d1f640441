"""Catalog commands of the command line: validate, catalog, schema, sample.

Exit codes: 0 success, 1 an invalid payload (every error listed), 2 a usage error such as an
unknown event type or a file that is not JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from connector.catalog import Catalog, UnknownEventType, ValidationIssue, get_catalog

ENVELOPE_KEYS = frozenset({"type", "data"})


def _dump(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _known_type(catalog: Catalog, type_name: str, param: str = "TYPE") -> str:
    try:
        catalog.entry(type_name)
    except UnknownEventType as exc:
        raise unknown_type_error(exc, param) from None
    return type_name


def unknown_type_error(error: UnknownEventType, param: str = "TYPE") -> click.BadParameter:
    """A name that is not an event type, as a usage error (exit code 2) saying where the list is."""
    return click.BadParameter(f"{error} (`billrun-connector catalog` lists them)", param_hint=param)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{path} is not UTF-8 text: {exc.reason}", param_hint="FILE") from exc
    except ValueError as exc:
        raise click.BadParameter(f"{path} is not JSON: {exc}", param_hint="FILE") from exc
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="FILE") from exc


def _validate(catalog: Catalog, document: Any, type_name: str | None) -> tuple[str, list[ValidationIssue]]:
    """Validate an envelope (``{id, type, timestamp, data}``) or, with a type, a bare payload."""
    is_envelope = isinstance(document, dict) and document.keys() >= ENVELOPE_KEYS
    if not is_envelope:
        if type_name is None:
            raise click.UsageError("the file is not an event envelope with a type; give --type TYPE")
        return type_name, catalog.validate_data(type_name, document)
    envelope_type = document["type"]
    if type_name is None:
        if not isinstance(envelope_type, str):
            raise click.UsageError("the envelope's type is not a string; give --type TYPE")
        type_name = _known_type(catalog, envelope_type, "the envelope's type")
    issues = catalog.validate_envelope(document)
    if envelope_type != type_name:
        issues.append(ValidationIssue("$.type", f"is {envelope_type!r}, expected {type_name!r}"))
    return type_name, issues


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--type", "type_name", metavar="TYPE", help="event type; read from the envelope when not given")
def validate_command(file: Path, type_name: str | None) -> None:
    """Validate FILE: a delivery envelope, or a bare payload with --type."""
    catalog = get_catalog()
    if type_name is not None:
        _known_type(catalog, type_name, "--type")
    document = _read_json(file)
    checked_type, issues = _validate(catalog, document, type_name)
    if not issues:
        click.echo(f"valid: {file} is a valid {checked_type} event")
        return
    click.echo(f"invalid: {file} has {len(issues)} error(s) for {checked_type}:")
    for issue in issues:
        click.echo(f"  {issue}")
    raise SystemExit(1)


@click.command("catalog")
@click.option("--json", "as_json", is_flag=True, help="print schemas/catalog.json")
def catalog_command(as_json: bool) -> None:
    """List every event type."""
    catalog = get_catalog()
    if as_json:
        _dump(catalog.document)
        return
    titles = {group["id"]: group["title"] for group in catalog.document["groups"]}
    types = catalog.types()
    width = max(len(event.type) for event in types)
    for group_id, group_title in titles.items():
        click.echo(f"{group_title}:")
        for event in (e for e in types if e.group == group_id):
            notes = [] if event.fired_by_billrun else ["never fired by BillRun"]
            if event.kind == "group":
                notes.append("all of: " + ", ".join(a.split(".", 1)[1] for a in event.expands_to))
            if event.kind == "module":
                notes.append(f"every {event.module}.<action>, listed or not")
            if event.kind == "all":
                notes.append("every event")
            suffix = f"  ({'; '.join(notes)})" if notes else ""
            click.echo(f"  {event.type:<{width}}  {event.title}{suffix}")
    click.echo(f"{len(types)} event types")


@click.command("schema")
@click.argument("type_name", metavar="TYPE")
def schema_command(type_name: str) -> None:
    """Print the JSON Schema of TYPE."""
    catalog = get_catalog()
    _dump(catalog.schema(_known_type(catalog, type_name)))


@click.command("sample")
@click.argument("type_name", metavar="TYPE")
@click.option("--all", "all_samples", is_flag=True, help="print every sample as a JSON array")
def sample_command(type_name: str, all_samples: bool) -> None:
    """Print a sample event of TYPE, as the connector delivers it."""
    catalog = get_catalog()
    samples = catalog.samples(_known_type(catalog, type_name))
    _dump(samples if all_samples else samples[0])


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (validate_command, catalog_command, schema_command, sample_command):
        group.add_command(command)
