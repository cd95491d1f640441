"""Settings of the connector, read from ``BILLRUN_CONNECTOR_*`` environment variables.

Every field of :class:`Settings` has an environment variable named ``BILLRUN_CONNECTOR_`` plus the
field name in upper case (``database_url`` → ``BILLRUN_CONNECTOR_DATABASE_URL``). Command-line
flags and keyword overrides win over the environment, which wins over the defaults.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_PREFIX = "BILLRUN_CONNECTOR_"
DEFAULT_DATABASE_FILE = "billrun-connector.db"
SECRET_KEY_SUFFIX = ".secret-key"
DEFAULT_RETRY_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0)
MAX_BODY_BYTES = 1_048_576  # the largest request body taken, BillRun's deliveries included
# Room a delivery needs in its lease beyond the attempt itself: recording it, clock skew.
LEASE_MARGIN_SECONDS = 1.0


def minimum_lease_seconds(timeout: float) -> float:
    """The shortest lease a worker can use with attempts of up to *timeout* seconds.

    A worker claims more jobs than it has threads, so a job may wait for one whole attempt before
    its own starts; both must end inside the lease, or the job is handed back unsent every time.
    """
    return 2 * timeout + LEASE_MARGIN_SECONDS


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


def default_database_path(folder: Path | None = None) -> Path:
    """The SQLite file used when no database is configured.

    It lies at the top of the git checkout that holds *folder* (the working folder), so that the
    server and every command run from any folder of a checkout use one database; outside a checkout,
    in *folder* itself.
    """
    start = folder if folder is not None else Path.cwd()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():  # a folder in a clone, a file in a git worktree
            return candidate / DEFAULT_DATABASE_FILE
    return start / DEFAULT_DATABASE_FILE


def default_database_url() -> str:
    """The URL of :func:`default_database_path`."""
    return f"sqlite:///{default_database_path()}"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build it with :meth:`Settings.load`."""

    database_url: str = field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = 8080
    allowed_networks: tuple[str, ...] = ()
    retry_scale: float = 1.0
    secret_key: str = ""
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    connect_timeout: float = 5.0
    timeout: float = 15.0
    max_body_bytes: int = MAX_BODY_BYTES
    strict_schemas: bool = False
    rotation_grace_seconds: int = 86_400
    disable_after_failing_seconds: int = 432_000
    retention_days: int = 30
    worker_threads: int = 4
    # The CPU priority of a separate worker process (its nice value, 0 to 19; see worker.background).
    worker_nice: int = 10
    lease_seconds: int = 60
    in_process_worker: bool = True
    base_url: str = ""

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, *, resolve_secret: bool = True, **overrides: Any
    ) -> Settings:
        """Read the environment, apply *overrides* (``None`` values are ignored) and check the result.

        The secret key is resolved last (see :func:`resolve_secret_key`); commands that sign nothing
        (keys, db) pass ``resolve_secret=False``.
        """
        env = os.environ if environ is None else environ
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, spec in known.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw.strip() != "":
                values[name] = _parse(ENV_PREFIX + name.upper(), spec.type, raw)
        for name, value in overrides.items():
            if name not in known:
                raise ConfigError(f"unknown setting {name!r}")
            if value is None:
                continue
            if isinstance(value, str) and known[name].type != "str":
                value = _parse(f"--{name.replace('_', '-')}", known[name].type, value)
            values[name] = _coerce(name, known[name].type, value)
        settings = cls(**values)
        settings.check()
        if resolve_secret and not settings.secret_key:
            settings = dataclasses.replace(settings, secret_key=resolve_secret_key(settings.database_url))
        return settings

    def replace(self, **overrides: Any) -> Settings:
        """A copy with *overrides* applied and checked (``None`` values are ignored)."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise ConfigError(f"unknown setting {name!r}")
            if value is not None:
                changes[name] = _coerce(name, known[name].type, value)
        settings = dataclasses.replace(self, **changes)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise :class:`ConfigError` when a value is out of range."""
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"{ENV_PREFIX}PORT must be between 0 and 65535, got {self.port}")
        for cidr in self.allowed_networks:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ConfigError(f"{ENV_PREFIX}ALLOWED_NETWORKS: {cidr!r} is not a network ({exc})") from None
        if not self.retry_schedule:
            raise ConfigError(f"{ENV_PREFIX}RETRY_SCHEDULE must list at least one delay")
        positive = {
            "retry_scale": self.retry_scale >= 0,
            "retry_schedule": all(delay >= 0 for delay in self.retry_schedule),
            "connect_timeout": self.connect_timeout > 0,
            "timeout": self.timeout > 0,
            "max_body_bytes": self.max_body_bytes > 0,
            "rotation_grace_seconds": self.rotation_grace_seconds >= 0,
            "disable_after_failing_seconds": self.disable_after_failing_seconds > 0,
            "retention_days": self.retention_days > 0,
            "worker_threads": self.worker_threads > 0,
            "worker_nice": 0 <= self.worker_nice <= 19,
            "lease_seconds": self.lease_seconds > 0,
        }
        for name, ok in positive.items():
            if not ok:
                raise ConfigError(f"{ENV_PREFIX}{name.upper()} is out of range: {getattr(self, name)!r}")
        if self.lease_seconds < minimum_lease_seconds(self.timeout):
            raise ConfigError(
                f"{ENV_PREFIX}LEASE_SECONDS ({self.lease_seconds}) is too short for {ENV_PREFIX}TIMEOUT "
                f"({self.timeout:g}): it must be at least 2 x TIMEOUT + {LEASE_MARGIN_SECONDS:g} = "
                f"{minimum_lease_seconds(self.timeout):g} seconds, since a claimed delivery may wait for "
                "one attempt before its own and both must end inside the lease"
            )
        if not self.database_url.strip():
            raise ConfigError(f"{ENV_PREFIX}DATABASE_URL is empty")


def sqlite_path(database_url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or ``None`` for other databases and in-memory SQLite."""
    if not database_url.startswith("sqlite"):
        return None
    _, _, rest = database_url.partition(":///")
    path = rest.split("?", 1)[0]
    if not path or path == ":memory:" or "mode=memory" in database_url:
        return None
    return Path(path)


def resolve_secret_key(database_url: str) -> str:
    """The secret for signed tokens when none was configured.

    For a SQLite file it is generated once and kept beside it in ``<file>.secret-key``, so ingest URLs
    stay valid across restarts. In-memory SQLite gets a fresh one. Any other database needs an explicit
    ``BILLRUN_CONNECTOR_SECRET_KEY``: several processes on several machines must share it.
    """
    if database_url.startswith("sqlite"):
        path = sqlite_path(database_url)
        if path is None:
            return secrets.token_urlsafe(32)
        key_file = path.with_name(path.name + SECRET_KEY_SUFFIX)
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first: use theirs
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(32) + "\n")
        key = key_file.read_text().strip()
        if not key:
            raise ConfigError(f"{key_file} is empty; delete it or set {ENV_PREFIX}SECRET_KEY")
        return key
    raise ConfigError(f"{ENV_PREFIX}SECRET_KEY must be set when the database is not a SQLite file")


def _parse(name: str, type_name: Any, raw: str) -> Any:
    text = raw.strip()
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "bool":
            lowered = text.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError("expected true or false")
        if type_name == "tuple[str, ...]":
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if type_name == "tuple[float, ...]":
            return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(f"{name}: cannot use {raw!r} ({exc})") from None
    return text


def _coerce(name: str, type_name: Any, value: Any) -> Any:
    """Accept lists for tuple settings and ints for float settings from Python callers."""
    if type_name.startswith("tuple") and isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value) if "float" in type_name else tuple(str(v) for v in value)
    if type_name == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
