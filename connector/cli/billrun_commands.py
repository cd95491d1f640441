"""``billrun-connector billrun connect|status|sync|disconnect``: the tenant's link to its BillRun.

Exit codes: 0 done; 1 done in part (some BillRun calls failed and will be retried, or webhooks were
left behind); 2 refused, nothing stored (bad input, wrong credentials, not a BillRun, plugin not
enabled, BillRun unreachable at connect).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from connector.cli.options import database_url_option, load_settings, open_database
from connector.config import Settings

if TYPE_CHECKING:  # the link (storage, requests) is imported inside the commands: --help stays fast
    from connector.billrun_link.reconcile import PassResult
    from connector.storage import Database

SECRET_ENV = "BILLRUN_CONNECTOR_BILLRUN_CLIENT_SECRET"


class Refused(click.ClickException):
    """Nothing was done or stored: exit code 2."""

    exit_code = 2


class Partial(click.ClickException):
    """Done in part: exit code 1."""

    exit_code = 1


@contextmanager
def _opened(database_url: str | None) -> Iterator[tuple[Database, Settings]]:
    settings = load_settings(database_url=database_url)
    with open_database(settings) as database:
        yield database, settings


def _pairs(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{module}.{action}" for module, action in pairs)


def _report(result: PassResult) -> None:
    for label, pairs in (
        ("registered", result.created),
        ("updated to the current ingest URL", result.updated),
        ("removed", result.deleted),
        ("lost by BillRun, registered again", result.lost),
    ):
        if pairs:
            click.echo(f"{label}: {_pairs(pairs)}")
    for (module, action), error in result.failed:
        click.echo(f"failed: {module}.{action}: {error}", err=True)
    if result.error:
        click.echo(f"error: {result.error}", err=True)


@click.group("billrun")
def billrun() -> None:
    """Connect a tenant to its BillRun once; the connector then keeps BillRun's webhooks in step."""


@billrun.command("connect")
@database_url_option
@click.option("--tenant", required=True, help="Tenant name (created if new).")
@click.option("--url", required=True, help="BillRun's base URL, e.g. https://billrun.example.com.")
@click.option("--client-id", required=True, help="A BillRun OAuth2 client with the global scope.")
@click.option(
    "--client-secret",
    envvar=SECRET_ENV,
    prompt=True,
    hide_input=True,
    help=f"Its secret (env {SECRET_ENV}; prompted for when neither is given). Stored encrypted, never shown.",
)
@click.option(
    "--ingest-base-url",
    default=None,
    help="The connector's address as BillRun reaches it (default BILLRUN_CONNECTOR_BASE_URL, else http://HOST:PORT).",
)
@click.option(
    "--collection-step",
    "collection_steps",
    multiple=True,
    metavar="NAME",
    help="A custom collection step of this BillRun; repeatable. collection.* and * subscriptions register them.",
)
def connect(
    database_url: str | None,
    tenant: str,
    url: str,
    client_id: str,
    client_secret: str,
    ingest_base_url: str | None,
    collection_steps: tuple[str, ...],
) -> None:
    """Prove BillRun's OAuth2 client and plugin API, store the connection, register the webhooks.

    Connecting again (same BillRun) replaces the credentials, ingest base URL and collection steps.
    """
    from connector.billrun_link import service

    with _opened(database_url) as (db, settings):
        request = service.ConnectRequest(tenant, url, client_id, client_secret, ingest_base_url, collection_steps)
        try:
            report = service.connect(db, settings, request)
        except service.LinkError as exc:
            raise Refused(f"not connected ({exc.code}): {exc.message}") from None
    click.echo(f"BillRun at {report.url} resolves to {report.addresses}")
    made = "made" if report.ingest_url_made else "using"
    click.echo(f"{made} ingest URL {report.ingest_token_id} of tenant {report.tenant!r} at {report.ingest_base_url}")
    _report(report.first_pass)
    click.echo(f"connected tenant {report.tenant!r} to BillRun at {report.url}")
    if not report.first_pass.ok:
        raise Partial("connected, but some webhooks are not registered yet: the worker retries them (billrun status)")


@billrun.command("status")
@database_url_option
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_command(database_url: str | None, tenant: str, as_json: bool) -> None:
    """What is registered in BillRun, pending, being removed or failing, and why."""
    from connector.billrun_link import service

    with _opened(database_url) as (db, settings):
        try:
            view = service.status(db, settings, tenant)
        except service.LinkError as exc:
            raise Refused(exc.message) from None
    if as_json:
        click.echo(json.dumps(view, indent=2, ensure_ascii=False))
        return
    counts = ", ".join(f"{count} {name}" for name, count in view["counts"].items())
    click.echo(f"tenant {view['tenant']!r}: BillRun at {view['url']} (client {view['client_id']}): {counts}")
    click.echo(
        f"ingest URL {view['ingest_url_id']} at {view['ingest_base_url']}; last sync {view['last_sync_at'] or '-'}"
    )
    if view["collection_steps"]:
        click.echo("collection steps: " + ", ".join(view["collection_steps"]))
    if view["last_error"]:
        click.echo(f"last error: {view['last_error']}")
    click.echo(f"{'MODULE':<16} {'ACTION':<22} {'WEBHOOK ID':<37} {'STATUS':<10} {'TRIES':<5} NEXT TRY / ERROR")
    for item in view["registrations"]:
        tail = " ".join(part for part in (item["next_try_at"], item["last_error"]) if part)
        click.echo(
            f"{item['module']:<16} {item['action']:<22} {item['webhook_id']:<37} {item['status']:<10} "
            f"{item['attempts']:<5} {tail}".rstrip()
        )


@billrun.command("sync")
@database_url_option
@click.option("--tenant", required=True)
def sync_command(database_url: str | None, tenant: str) -> None:
    """Reconcile now: read back every registered webhook, then create, update and delete as needed."""
    from connector.billrun_link import service

    with _opened(database_url) as (db, settings):
        try:
            result = service.sync(db, settings, tenant)
        except service.LinkError as exc:
            raise Refused(exc.message) from None
    if result.busy:
        raise Partial("another process is reconciling this connection right now; try again in a moment")
    _report(result)
    if not result.ok:
        raise Partial("not every webhook is in step yet: the worker retries with backoff (billrun status)")
    click.echo(f"tenant {tenant!r} is in step with BillRun")


@billrun.command("disconnect")
@database_url_option
@click.option("--tenant", required=True)
@click.option("--force", is_flag=True, help="Forget the connection even if some webhooks cannot be removed now.")
def disconnect_command(database_url: str | None, tenant: str, force: bool) -> None:
    """Remove every webhook the connector made in BillRun, then forget the connection."""
    from connector.billrun_link import service

    with _opened(database_url) as (db, settings):
        try:
            report = service.disconnect(db, settings, tenant, force=force)
        except service.LinkError as exc:
            error = Refused if exc.code == "not_connected" else Partial
            raise error(exc.message) from None
    click.echo(f"removed {report.removed} webhook(s) from BillRun; tenant {tenant!r} is disconnected")
    if report.left_behind:
        raise Partial("BillRun may still hold these webhooks, delete them there: " + ", ".join(report.left_behind))


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    group.add_command(billrun)
