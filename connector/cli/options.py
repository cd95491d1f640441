"""Options shared by the commands that open the database (``--database-url`` and friends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from connector.config import ConfigError, Settings, default_database_url, resolve_secret_key, sqlite_path

if TYPE_CHECKING:
    from connector.storage import Database

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

database_url_option: Callable[[F], F] = click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="SQLAlchemy database URL (env BILLRUN_CONNECTOR_DATABASE_URL; default: billrun-connector.db at the "
    "top of the git checkout holding the working folder, else in the working folder). postgresql:// URLs use "
    "psycopg 3.",
)

allow_network_option: Callable[[F], F] = click.option(
    "--allow-network",
    "allowed_networks",
    metavar="CIDR",
    multiple=True,
    help="Allow targets in this network despite the SSRF guard; repeatable (env BILLRUN_CONNECTOR_ALLOWED_NETWORKS).",
)


@contextmanager
def open_database(settings: Settings) -> Iterator[Database]:
    """The configured database, upgraded to the newest schema, closed afterwards; which one it is
    goes to stderr first (see :func:`announce_database`).

    Storage is imported here, not at the top: ``billrun-connector --help`` stays fast.
    """
    from connector.storage import Database, upgrade

    announce_database(settings)
    database = Database(settings.database_url)
    try:
        with database_errors(settings):
            upgrade(database)
        yield database
    finally:
        database.dispose()


@contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """A database that cannot be opened or reached, as one line (exit code 1) instead of a traceback."""
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise click.ClickException(f"cannot open the database {_shown_url(settings.database_url)}: {reason}") from None


def announce_database(settings: Settings, *, new_is_expected: bool = False) -> None:
    """Say on stderr which database a command is about to open: ``database: <url>``.

    A SQLite file that does not exist yet is about to be made, new and empty. That is expected
    from ``serve`` (*new_is_expected*) and from a database given by URL: said in passing. Any other
    command on the default file warns: that is not the database a running server uses.
    """
    click.echo(f"database: {_shown_url(settings.database_url)}", err=True)
    path = sqlite_path(settings.database_url)
    if path is None or path.exists():
        return
    if new_is_expected or settings.database_url != default_database_url():
        click.echo(f"database: {path.absolute()} does not exist yet: creating it", err=True)
        return
    click.echo(
        f"warning: {path.absolute()} does not exist yet, so this command creates a new, empty database: "
        "a server started from another folder uses another one (its `database:` line says which); "
        "give both the same --database-url or BILLRUN_CONNECTOR_DATABASE_URL",
        err=True,
    )


def _shown_url(url: str) -> str:
    """*url* without its password; a string that is no database URL is a usage error."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise click.UsageError(
            f"{url!r} is not a database URL (--database-url or BILLRUN_CONNECTOR_DATABASE_URL): use "
            "sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/NAME"
        ) from None


def load_settings(*, resolve_secret: bool = True, **overrides: Any) -> Settings:
    """Settings from the environment and the command's flags, or a clean command-line error."""
    try:
        return Settings.load(resolve_secret=resolve_secret, **overrides)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def with_secret_key(settings: Settings) -> Settings:
    """*settings* with their secret key resolved (see :func:`connector.config.resolve_secret_key`),
    for a command that loaded them with ``resolve_secret=False`` and needs the key later."""
    if settings.secret_key:
        return settings
    try:
        return settings.replace(secret_key=resolve_secret_key(settings.database_url))
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None


def refused_as_usage(action: Callable[[], T]) -> T:
    """Run a use case; what it refuses becomes a command-line error: a bad value exits with code 2
    naming the option, anything else (unknown, forbidden) with code 1."""
    from connector.services.errors import Invalid, ServiceError

    try:
        return action()
    except Invalid as exc:
        names = list(exc.fields)
        hint = f"--{names[0].replace('_', '-')}" if len(names) == 1 else None
        raise click.BadParameter(exc.message, param_hint=hint) from None
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
