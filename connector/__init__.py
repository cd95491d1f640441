"""billrun-connector: durable, signed webhook delivery for BillRun."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("billrun-connector")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"


def create_app(*args, **kwargs):
    """Build the Flask application (see :func:`connector.app.create_app`)."""
    from connector.app import create_app as _create_app

    return _create_app(*args, **kwargs)


__all__ = ["__version__", "create_app"]
