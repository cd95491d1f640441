"""``billrun-connector quarantine list|release``: events strict schemas held back."""

from __future__ import annotations

import json

import click

from connector.cli.options import database_url_option, load_settings, open_database


@click.group()
def quarantine() -> None:
    """Events held back because their payload fails its schema (strict schemas on)."""


def _tenant_scope(session: object, tenant: str | None) -> int | None:
    from connector.storage import tenants

    if tenant is None:
        return None
    owner = tenants.find_tenant(session, tenant)  # type: ignore[arg-type]
    if owner is None:
        raise click.ClickException(f"no tenant {tenant!r}")
    return owner.id


@quarantine.command("list")
@database_url_option
@click.option("--tenant", default=None, help="Only this tenant's events.")
@click.option("--type", "event_type", default=None, help="Only events of this type.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with the payload and every error.")
def quarantine_list(
    database_url: str | None, tenant: str | None, event_type: str | None, limit: int, as_json: bool
) -> None:
    """List quarantined events, oldest first, with the first schema error of each."""
    from connector.services import quarantine as services

    settings = load_settings(resolve_secret=False, database_url=database_url)
    with open_database(settings) as database, database.session(write=False) as session:
        rows, more = services.page(session, _tenant_scope(session, tenant), event_type=event_type, limit=limit)
        if not as_json:
            click.echo(f"{'EVENT':<27} {'TENANT ID':<16} {'TYPE':<32} {'RECEIVED':<20} FIRST ERROR")
        for row in rows:
            errors = row.validation_errors or []
            if as_json:
                click.echo(json.dumps({**row.envelope(), "tenant_id": row.tenant_id, "validation_errors": errors}))
            else:
                first = errors[0] if errors else ""
                click.echo(
                    f"{row.id:<27} {row.tenant_id:<16} {row.type:<32} {row.created_at:%Y-%m-%d %H:%M:%S}  {first}"
                )
        if more:
            click.echo(f"... more than {limit}: use --limit, --type or --tenant", err=True)


@quarantine.command("release")
@database_url_option
@click.argument("event_ids", nargs=-1)
@click.option("--all", "release_all", is_flag=True, help="Release every quarantined event (of --tenant, --type).")
@click.option("--tenant", default=None, help="With --all: only this tenant's events.")
@click.option("--type", "event_type", default=None, help="With --all: only events of this type.")
def quarantine_release(
    database_url: str | None, event_ids: tuple[str, ...], release_all: bool, tenant: str | None, event_type: str | None
) -> None:
    """Release quarantined events to their subscribers: the given EVENT_IDS, or --all.

    Each is checked again against the schema as it is now (the verdict is recorded) and delivered
    whatever it says. A running worker picks them up within a second.
    """
    from connector.catalog import get_catalog
    from connector.services import quarantine as services
    from connector.services.errors import ServiceError
    from connector.services.runtime import Runtime

    if bool(event_ids) == release_all:
        raise click.UsageError("give EVENT_IDS or --all (not both)")
    if event_ids and (tenant or event_type):
        raise click.UsageError("--tenant and --type go with --all")
    settings = load_settings(resolve_secret=False, database_url=database_url)
    with open_database(settings) as database:
        runtime = Runtime(settings, database, get_catalog())
        total = 0
        if release_all:
            while True:  # bounded: each pass releases what the last left in quarantine
                with database.session() as session:
                    released = services.release_all(
                        runtime, session, _tenant_scope(session, tenant), event_type=event_type
                    )
                total += released
                if released < services.MAX_RELEASE:
                    break
        else:
            for event_id in event_ids:
                try:
                    with database.session() as session:
                        services.release_one(runtime, session, None, event_id)
                except ServiceError as exc:
                    raise click.ClickException(exc.message) from None
                total += 1
        click.echo(f"released {total} event{'s' if total != 1 else ''}")


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    group.add_command(quarantine)
