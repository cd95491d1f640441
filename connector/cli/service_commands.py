"""Service commands of the command line: ``serve``, ``keys create|list|revoke``, ``db upgrade``."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterable
from datetime import datetime
from types import FrameType

import click

from connector.cli.options import (
    allow_network_option,
    announce_database,
    database_errors,
    database_url_option,
    load_settings,
    open_database,
    refused_as_usage,
    with_secret_key,
)

log = logging.getLogger(__name__)


class CannotServe(click.ClickException):
    """The service cannot start as asked (busy port, wrong address): one line, exit code 2."""

    exit_code = 2


@click.command()
@database_url_option
@click.option("--host", default=None, help="Listen address (env BILLRUN_CONNECTOR_HOST; default 127.0.0.1).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Listen port, 0 for any free one (env BILLRUN_CONNECTOR_PORT; default 8080).",
)
@allow_network_option
@click.option("--threads", type=click.IntRange(1, 256), default=8, show_default=True, help="HTTP worker threads.")
def serve(
    database_url: str | None, host: str | None, port: int | None, allowed_networks: tuple[str, ...], threads: int
) -> None:
    """Run the service under waitress (the database schema is upgraded first).

    The port is taken first: when it is busy, nothing else starts. SIGTERM or Ctrl-C stops it
    gracefully: no new connections or claims, requests and deliveries in flight finish (each
    bounded by its timeout), unstarted claims are released, exit status 0.
    """
    from waitress import create_server

    from connector.app import create_app
    from connector.cli import listening, server_address

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    shutdown = _Shutdown()
    shutdown.install()  # first: a signal during start-up means "stop once started", not a traceback
    settings = load_settings(
        resolve_secret=False,  # not before the port is taken: a busy port leaves no file behind
        database_url=database_url,
        host=host,
        port=port,
        allowed_networks=allowed_networks or None,
    )
    try:
        sockets = listening.bind(settings.host, settings.port)
    except listening.ListenError as exc:
        raise CannotServe(str(exc)) from None
    try:
        settings = with_secret_key(settings)
        announce_database(settings, new_is_expected=True)
        with database_errors(settings):
            app = create_app(settings)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    server = create_server(app, sockets=sockets, threads=threads, ident="billrun-connector")
    delivery_worker = app.extensions["billrun_connector.runtime"].worker
    if delivery_worker is not None:
        shutdown.on_signal = delivery_worker.request_stop  # it stops claiming while waitress drains
    port = sockets[0].getsockname()[1]
    url = server_address.base_url(settings.host, port)
    listen = " and ".join(server_address.listen_url(sock.getsockname()[0], port) for sock in sockets)
    log.info(
        "billrun-connector listening on %s (console %s/, API docs %s/docs, metrics %s/metrics)", listen, url, url, url
    )
    server_address.record(settings, url)
    try:
        shutdown.serve(server.run)
    finally:
        server.close()
        server_address.forget(settings, url)
        stopped = delivery_worker is None or delivery_worker.stop()
    if not stopped:
        raise click.ClickException(
            "the delivery worker did not stop in time; its claimed deliveries are due again when their leases end"
        )
    click.echo("billrun-connector stopped", err=True)


class _Shutdown:
    """SIGTERM and SIGINT stop ``serve`` once, gracefully.

    Waitress installs no signal handler; it ends its loop on KeyboardInterrupt and then lets its
    request threads finish. So a signal while serving raises KeyboardInterrupt (once); a signal
    during start-up only marks the stop, so that start-up (a migration) is never cut in the middle;
    further signals are ignored, so they cannot cut the graceful stop short.
    """

    def __init__(self) -> None:
        self.requested = False
        self.serving = False
        self.on_signal: Callable[[], None] | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def serve(self, serve_forever: Callable[[], None]) -> None:
        """Run *serve_forever* until a signal (not at all if one came during start-up)."""
        try:
            self.serving = True
            if not self.requested:
                serve_forever()
        except KeyboardInterrupt:  # raised by _handle just before serve_forever caught it
            pass
        finally:
            self.serving = False

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.requested:
            log.info("%s received: already stopping", name)
            return
        self.requested = True
        log.info("%s received: stopping", name)
        if self.on_signal is not None:
            self.on_signal()
        if self.serving:
            raise KeyboardInterrupt


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@database_url_option
@click.option("--tenant", required=True, help="Tenant name (created if new).")
@click.option("--label", default="", help="What the key is for, e.g. zapier or n8n.")
@click.option("--admin", is_flag=True, help="The key may see and change every tenant's subscriptions.")
def keys_create(database_url: str | None, tenant: str, label: str, admin: bool) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    from connector.services import keys as key_service
    from connector.services.principal import COMMAND_LINE

    with (
        open_database(load_settings(resolve_secret=False, database_url=database_url)) as database,
        database.session() as session,
    ):
        key, plaintext = refused_as_usage(
            lambda: key_service.create(session, COMMAND_LINE, tenant=tenant, label=label, admin=admin)
        )
        click.echo(
            f"Created {'admin ' if admin else ''}key {key.id} for tenant {key.tenant.name!r}"
            + (f" ({key.label})" if key.label else "")
        )
    click.echo("Store it now: it is not shown again.")
    click.echo(plaintext)


@keys.command("list")
@database_url_option
@click.option("--tenant", default=None, help="Only this tenant's keys.")
def keys_list(database_url: str | None, tenant: str | None) -> None:
    """List API keys (never the keys themselves: their id and first characters)."""
    from connector.services import keys as key_service
    from connector.services.principal import COMMAND_LINE

    with (
        open_database(load_settings(resolve_secret=False, database_url=database_url)) as database,
        database.session() as session,
    ):
        rows = refused_as_usage(lambda: key_service.listing(session, COMMAND_LINE, tenant))
        click.echo(_row(name for name, _ in KEY_COLUMNS))
        for key in rows:
            click.echo(
                _row(
                    (
                        key.id,
                        key.tenant.name,
                        key.label,
                        key.prefix,
                        "yes" if key.is_admin else "no",
                        _time(key.created_at),
                        _time(key.last_used_at),
                        f"revoked {_time(key.revoked_at)}" if key.revoked_at else "active",
                    )
                )
            )


KEY_COLUMNS = (
    ("ID", 26),
    ("TENANT", 20),
    ("LABEL", 16),
    ("PREFIX", 12),
    ("ADMIN", 5),
    ("CREATED", 19),
    ("LAST USED", 19),
    ("STATE", 0),
)


def _row(values: Iterable[str]) -> str:
    return " ".join(f"{value:<{width}}" for (_, width), value in zip(KEY_COLUMNS, values, strict=True)).rstrip()


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


@keys.command("revoke")
@database_url_option
@click.argument("key_id")
def keys_revoke(database_url: str | None, key_id: str) -> None:
    """Revoke the key KEY_ID (its id or its prefix, as `keys list` shows them)."""
    from connector.services import keys as key_service
    from connector.services.principal import COMMAND_LINE

    with (
        open_database(load_settings(resolve_secret=False, database_url=database_url)) as database,
        database.session() as session,
    ):
        key = refused_as_usage(lambda: key_service.revoke(session, COMMAND_LINE, key_id))
        click.echo(f"Revoked key {key.id} of tenant {key.tenant.name!r}")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@database_url_option
def db_upgrade(database_url: str | None) -> None:
    """Apply every pending migration."""
    with open_database(load_settings(resolve_secret=False, database_url=database_url)) as database:
        from connector.storage.migrate import current_revision

        click.echo(f"database at revision {current_revision(database)}")


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (serve, keys, db):
        group.add_command(command)
