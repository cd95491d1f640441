"""Shared fixtures: ``db_url``, one fresh empty database per test.

Parametrised over SQLite (a file in the test's temporary folder, copied from a template migrated once
per run, so no test pays for the migrations) and, when
``BILLRUN_CONNECTOR_TEST_POSTGRES_URL`` is set (``scripts/postgres.sh start`` prints one), PostgreSQL:
each test gets its own schema there, selected through the connection's ``search_path`` and dropped
afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from process_control import stop
from sqlalchemy import text

from connector.storage import Database, make_engine, normalize_url, upgrade

POSTGRES_ENV = "BILLRUN_CONNECTOR_TEST_POSTGRES_URL"


def _backends() -> list[object]:
    backends: list[object] = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(POSTGRES_ENV):
        backends.append(pytest.param("postgresql", id="postgresql"))
    return backends


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file with every migration applied."""
    path = tmp_path_factory.mktemp("template") / "connector.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, tmp_path / "connector.db")
        yield f"sqlite:///{tmp_path / 'connector.db'}"
        return
    base = os.environ[POSTGRES_ENV]
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = normalize_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))  # bounded if a test leaked a transaction
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def serve_cli(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], str]]:
    """Starts ``billrun-connector serve`` on a free loopback port in the environment given, its
    output in the test's folder, and returns its base URL; stopped with SIGINT after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str]) -> str:
        log = tmp_path / f"serve-{len(processes)}.log"
        with log.open("wb") as out:
            command = [sys.executable, "-c", "from connector.cli import main; main()", "serve", "--port", "0"]
            processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        match = None
        while match is None and time.monotonic() < deadline and processes[-1].poll() is None:
            match = re.search(r"listening on (http://\S+)", log.read_text())
            time.sleep(0.1)
        assert match, log.read_text()
        return match.group(1)

    yield start
    for process in processes:
        stop(process, signal.SIGINT)
