"""Delivery commands of the command line: ``worker``, ``ingest-url``, ``ingest-urls``, ``fire``."""

from __future__ import annotations

import logging
import signal
from typing import Any
from urllib.parse import urlsplit

import click

from connector import __version__
from connector.cli.options import (
    allow_network_option,
    announce_database,
    database_errors,
    database_url_option,
    load_settings,
    open_database,
    refused_as_usage,
)

log = logging.getLogger(__name__)


@click.command()
@database_url_option
@allow_network_option
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="Concurrent deliveries (env BILLRUN_CONNECTOR_WORKER_THREADS; default 4).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve this worker's own Prometheus counters on this port.",
)
def worker(
    database_url: str | None, allowed_networks: tuple[str, ...], threads: int | None, metrics_port: int | None
) -> None:
    """Run a delivery worker until SIGTERM or Ctrl-C.

    Stopping is graceful: no new claims, attempts in flight finish (bounded by the attempt timeout)
    and are recorded, claimed deliveries not yet started are released unsent; exit status 0.
    """
    from connector.delivery.worker import Worker, background
    from connector.storage import Database, upgrade

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(
        resolve_secret=False,
        database_url=database_url,
        allowed_networks=allowed_networks or None,
        worker_threads=threads,
    )
    announce_database(settings)
    background(settings)
    database = Database(settings.database_url)
    delivery_worker = Worker(database, settings)

    def _stop(signum: int, _frame: Any) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        delivery_worker.request_stop()  # run() below returns once the attempts in flight are recorded

    # Before anything slow: a SIGTERM during start-up must still mean a clean stop.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with database_errors(settings):
        upgrade(database)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)
    click.echo(f"delivery worker {delivery_worker.worker_id} running", err=True)
    try:
        delivery_worker.run()
    finally:
        database.dispose()


@click.command("ingest-url")
@database_url_option
@click.option(
    "--tenant", required=True, help="The tenant whose subscriptions receive what BillRun sends here (created if new)."
)
@click.option(
    "--source", default="billrun", show_default=True, help="A label for this BillRun (shown in event sources)."
)
@click.option(
    "--base-url",
    default=None,
    help="The connector's URL as BillRun reaches it (env BILLRUN_CONNECTOR_BASE_URL; default: where "
    "`serve` on this database listens, else http://HOST:PORT from BILLRUN_CONNECTOR_HOST and _PORT).",
)
def ingest_url_command(database_url: str | None, tenant: str, source: str, base_url: str | None) -> None:
    """Make an ingest URL for BillRun's webhooks plugin; the URL is printed alone on the last line.

    BillRun signs nothing, so the URL is the credential: keep it secret, and revoke it with
    `billrun-connector ingest-urls revoke ID` if it leaks.
    """
    from connector.cli import server_address
    from connector.services import ingest_urls as ingest_url_service
    from connector.services.principal import COMMAND_LINE

    settings = load_settings(database_url=database_url, base_url=base_url)
    base, origin = server_address.ingest_base_url(settings)
    with open_database(settings) as database, database.session() as session:
        made = refused_as_usage(
            lambda: ingest_url_service.create(
                session, COMMAND_LINE, settings.secret_key, base_url=base, tenant=tenant, source=source
            )
        )
        token = made.token
        click.echo(f"Created ingest URL {token.id} for tenant {token.tenant.name!r} (source {token.source!r})")
    click.echo(f"base URL: {base} ({origin})", err=True)
    click.echo(made.url)


@click.group("ingest-urls")
def ingest_urls() -> None:
    """List and revoke ingest URLs."""


@ingest_urls.command("list")
@database_url_option
@click.option("--tenant", default=None, help="Only this tenant's URLs.")
def ingest_urls_list(database_url: str | None, tenant: str | None) -> None:
    """List ingest URLs by id (the URLs themselves are not stored)."""
    from connector.services import ingest_urls as ingest_url_service
    from connector.services.principal import COMMAND_LINE
    from connector.storage import tenants

    settings = load_settings(resolve_secret=False, database_url=database_url)
    with open_database(settings) as database, database.session() as session:
        tenant_id = None
        if tenant is not None:
            owner = tenants.find_tenant(session, tenant)
            if owner is None:
                raise click.ClickException(f"no tenant {tenant!r}")
            tenant_id = owner.id
        click.echo(f"{'ID':<27} {'TENANT':<20} {'SOURCE':<16} {'CREATED':<20} STATE")
        for row in ingest_url_service.listing(session, COMMAND_LINE, tenant_id):
            state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M:%S}" if row.revoked_at else "active"
            click.echo(
                f"{row.id:<27} {row.tenant.name:<20} {row.source:<16} {row.created_at:%Y-%m-%d %H:%M:%S}  {state}"
            )


@ingest_urls.command("revoke")
@database_url_option
@click.argument("id_or_url")
def ingest_urls_revoke(database_url: str | None, id_or_url: str) -> None:
    """Revoke an ingest URL, given its id (ing_...) or the URL itself; BillRun's posts to it get 401."""
    from connector.services import ingest_urls as ingest_url_service
    from connector.services.principal import COMMAND_LINE

    settings = load_settings(database_url=database_url)
    with open_database(settings) as database, database.session() as session:
        row = refused_as_usage(lambda: ingest_url_service.revoke(session, COMMAND_LINE, settings.secret_key, id_or_url))
        click.echo(f"Revoked ingest URL {row.id} of tenant {row.tenant.name!r}")


@click.command()
@click.argument("event_type", metavar="TYPE")
@click.option("--url", "target", required=True, metavar="INGEST_URL", help="Where to post, e.g. an ingest URL.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for the answer.")
def fire(event_type: str, target: str, timeout: float) -> None:
    """POST the sample of TYPE in BillRun's own wire format (a PHP form body), as BillRun would."""
    import requests

    from connector.billrun_wire import FORM_CONTENT_TYPE, encode_form
    from connector.catalog import UnknownEventType, get_catalog
    from connector.cli.catalog_commands import unknown_type_error

    catalog = get_catalog()
    try:
        catalog.check_deliverable(event_type)
    except UnknownEventType as exc:
        raise unknown_type_error(exc) from None
    samples = catalog.samples(event_type)
    if not samples:
        raise click.ClickException(f"the catalog has no sample for {event_type}")
    body = encode_form(event_type, samples[0]["data"], catalog)
    try:
        response = requests.post(
            target,
            data=body,
            headers={"Content-Type": FORM_CONTENT_TYPE, "User-Agent": f"billrun-connector/{__version__} (fire)"},
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise click.ClickException(_unreachable(target, exc, timeout)) from None
    click.echo(f"HTTP {response.status_code}")
    click.echo(response.text)
    if not response.ok:
        raise SystemExit(1)


def _unreachable(url: str, error: BaseException, timeout: float) -> str:
    """Why a POST to *url* got no answer, in one line that says what to check."""
    import socket

    import requests

    parts = urlsplit(url)
    where = parts.netloc or url
    causes = _causes(error)
    if any(isinstance(cause, socket.gaierror) for cause in causes):
        return (
            f"could not reach {parts.hostname}: the host name does not resolve (no such host here); "
            "check the URL: an ingest URL made with --base-url points at that host, so for the connector "
            "on this machine make one without --base-url"
        )
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return f"could not reach {where}: nothing listens there (connection refused); is the connector running?"
    if isinstance(error, requests.Timeout):
        return f"could not reach {where}: no answer within {timeout:g} s (--timeout)"
    if isinstance(error, requests.exceptions.SSLError):
        return f"could not reach {where}: the TLS handshake failed ({causes[-1]})"
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return f"{url!r} is not an http(s) URL: {error}"
    return f"could not reach {where}: {causes[-1]}"


def _causes(error: BaseException) -> list[BaseException]:
    """*error* and what it wraps (requests and urllib3 nest the socket's error several deep), outermost first."""
    found: list[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        wrapped = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))
    return found


def register(group: click.Group) -> None:
    """Add this module's commands to *group*."""
    for command in (worker, ingest_url_command, ingest_urls, fire):
        group.add_command(command)
