"""The WSGI entry point for any WSGI server: ``gunicorn connector.wsgi:app``, ``waitress-serve
connector.wsgi:app``.

Settings come from the environment (``BILLRUN_CONNECTOR_*``). Each process runs its own delivery
worker unless ``BILLRUN_CONNECTOR_IN_PROCESS_WORKER`` is false (then run ``billrun-connector worker``
processes beside it: the documented set-up on PostgreSQL).
"""

from __future__ import annotations

import logging

from connector.app import create_app

if not logging.getLogger().handlers:  # the server configured no logging: say what starts, at least
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

app = create_app()
