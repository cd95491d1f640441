"""Settings shared by every process of the bench: one secret key, loopback allowed as a target."""

from __future__ import annotations

from typing import Any

from connector.config import Settings

SECRET_KEY = "bench-secret-key"
LOOPBACK = ("127.0.0.0/8",)  # the receiver is on loopback, which the SSRF guard refuses by default
WEB_THREADS = 4  # waitress's default, and gunicorn's gthread workers get as many
WORKER_THREADS = Settings().worker_threads


def settings(database_url: str, **overrides: Any) -> Settings:
    """The connector's defaults, except the database, the secret and loopback targets (no environment read)."""
    return Settings.load(
        environ={}, database_url=database_url, secret_key=SECRET_KEY, allowed_networks=LOOPBACK, **overrides
    )


def environment(database_url: str) -> dict[str, str]:
    """The same settings as environment variables, for a server that reads them (gunicorn)."""
    return {
        "BILLRUN_CONNECTOR_DATABASE_URL": database_url,
        "BILLRUN_CONNECTOR_SECRET_KEY": SECRET_KEY,
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": ",".join(LOOPBACK),
        "BILLRUN_CONNECTOR_IN_PROCESS_WORKER": "false",
    }
