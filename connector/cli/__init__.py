"""The ``billrun-connector`` command line.

Each area registers its commands from its own module so that the catalog, the
service and the delivery engine stay independent of one another.
"""

import click

from connector import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billrun-connector")
def main() -> None:
    """BillRun connector: signed, durable webhooks for BillRun events."""


def _register() -> None:
    from connector.cli import (
        billrun_commands,
        catalog_commands,
        delivery_commands,
        quarantine_commands,
        service_commands,
    )

    for module in (catalog_commands, service_commands, delivery_commands, quarantine_commands, billrun_commands):
        module.register(main)


_register()
