"""Fresh databases for each run: a SQLite file in the bench's temporary folder, or a new database
on a throwaway PostgreSQL cluster (``scripts/postgres.sh``: installed if missing, fsync off)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from bench.cpu import Group
from bench.procs import ROOT
from connector.storage import Database, upgrade

_NUMBERS = itertools.count(1)


class Databases:
    """Makes and drops the databases of one kind (``sqlite`` or ``postgresql``)."""

    kind = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def fresh(self, label: str) -> str:
        """The URL of a new, empty database (migrated by :func:`open_fresh` or the app)."""
        return f"sqlite:///{self.folder / f'{label}-{next(_NUMBERS)}.db'}"

    def drop(self, url: str) -> None:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    def cpu_groups(self) -> list[Group]:
        return []  # SQLite runs inside the connector's processes

    def describe(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, file in a temporary folder)"


class Postgres(Databases):
    """A PostgreSQL cluster started for the bench (and stopped after it, if it started it)."""

    kind = "postgresql"

    def __init__(self, url: str, postmaster_pid: int, version: str, started_here: bool) -> None:
        self.url = url
        self.postmaster_pid = postmaster_pid
        self.version = version
        self.started_here = started_here

    @classmethod
    def start(cls) -> Postgres:
        """Start the cluster (``scripts/postgres.sh start``); raises RuntimeError when it cannot."""
        script = str(ROOT / "scripts" / "postgres.sh")
        running = subprocess.run(["bash", script, "url"], capture_output=True, text=True).returncode == 0
        started = subprocess.run(["bash", script, "start"], capture_output=True, text=True)
        if started.returncode != 0 or not started.stdout.strip():
            raise RuntimeError(f"scripts/postgres.sh start failed: {started.stderr.strip()[-500:]}")
        url = started.stdout.strip().splitlines()[-1]
        with psycopg.connect(url, autocommit=True) as connection:
            pid = int(connection.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
            version = str(connection.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])  # the postmaster
            # Databases an interrupted bench left behind on this throwaway cluster.
            leftovers = connection.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'").fetchall()
            for (name,) in leftovers:
                connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        return cls(url, parent, version, started_here=not running)

    def stop(self) -> None:
        if self.started_here:
            subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop"], capture_output=True)

    def fresh(self, label: str) -> str:
        name = f"bench_{label}_{next(_NUMBERS)}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def cpu_groups(self) -> list[Group]:
        return [Group("postgres", [self.postmaster_pid], with_descendants=True)]

    def describe(self) -> str:
        return f"PostgreSQL {self.version} (loopback, fsync off: scripts/postgres.sh)"


def open_fresh(databases: Databases, label: str) -> tuple[str, Database]:
    """A new database, migrated, and a handle on it for seeding and reading."""
    url = databases.fresh(label)
    database = Database(url)
    upgrade(database)
    return url, database
