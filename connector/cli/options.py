"""Options shared by the commands that open the database (``--database-url`` and friends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from connector.config import ConfigError, Settings

if TYPE_CHECKING:
    from connector.storage import Database

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

database_url_option: Callable[[F], F] = click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="SQLAlchemy database URL (env BILLRUN_CONNECTOR_DATABASE_URL; default: billrun-connector.db "
    "in the working folder). postgresql:// URLs use psycopg 3.",
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
    """The configured database, upgraded to the newest schema, closed afterwards.

    Storage is imported here, not at the top: ``billrun-connector --help`` stays fast.
    """
    from connector.storage import Database, upgrade

    database = Database(settings.database_url)
    try:
        upgrade(database)
        yield database
    finally:
        database.dispose()


def load_settings(*, resolve_secret: bool = True, **overrides: Any) -> Settings:
    """Settings from the environment and the command's flags, or a clean command-line error."""
    try:
        return Settings.load(resolve_secret=resolve_secret, **overrides)
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
