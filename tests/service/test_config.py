"""Settings from ``BILLRUN_CONNECTOR_*`` variables, overrides, checks and the secret key file."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import DEFAULT_RETRY_SCHEDULE, ConfigError, Settings, default_database_path


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.load(environ={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'billrun-connector.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.allowed_networks == ()
    assert settings.retry_scale == 1.0
    assert (
        settings.retry_schedule == DEFAULT_RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    )
    assert (settings.connect_timeout, settings.timeout, settings.max_body_bytes) == (5, 15, 1_048_576)
    assert settings.strict_schemas is False and settings.in_process_worker is True
    assert (settings.rotation_grace_seconds, settings.disable_after_failing_seconds) == (86_400, 432_000)
    assert (settings.retention_days, settings.worker_threads, settings.lease_seconds) == (30, 4, 60)
    assert settings.base_url == ""
    key_file = tmp_path / "billrun-connector.db.secret-key"
    assert key_file.read_text().strip() == settings.secret_key and len(settings.secret_key) >= 40
    assert Settings.load(environ={}).secret_key == settings.secret_key  # generated once, then kept


@pytest.mark.parametrize("marker", ["folder", "file"], ids=["clone", "worktree"])
def test_the_default_database_is_at_the_top_of_the_checkout(tmp_path: Path, marker: str) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "docs" / "deep").mkdir(parents=True)
    if marker == "folder":
        (checkout / ".git").mkdir()
    else:
        (checkout / ".git").write_text("gitdir: /elsewhere/.git/worktrees/checkout\n")
    expected = checkout / "billrun-connector.db"
    assert default_database_path(checkout) == expected
    assert default_database_path(checkout / "docs" / "deep") == expected
    outside = tmp_path / "outside"
    outside.mkdir()
    assert default_database_path(outside) == outside / "billrun-connector.db"


def test_environment_variables(tmp_path: Path) -> None:
    env = {
        "BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/env.db",
        "BILLRUN_CONNECTOR_HOST": "0.0.0.0",
        "BILLRUN_CONNECTOR_PORT": "9090",
        "BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.0/24,",
        "BILLRUN_CONNECTOR_RETRY_SCALE": "0.01",
        "BILLRUN_CONNECTOR_SECRET_KEY": "s3cret",
        "BILLRUN_CONNECTOR_RETRY_SCHEDULE": "0,1,2.5",
        "BILLRUN_CONNECTOR_STRICT_SCHEMAS": "yes",
        "BILLRUN_CONNECTOR_IN_PROCESS_WORKER": "0",
        "BILLRUN_CONNECTOR_BASE_URL": "https://hooks.example.org",
        "BILLRUN_CONNECTOR_TIMEOUT": "",  # empty means unset
    }
    settings = Settings.load(environ=env)
    assert settings.host == "0.0.0.0" and settings.port == 9090
    assert settings.allowed_networks == ("10.0.0.0/8", "192.168.1.0/24")
    assert settings.retry_scale == 0.01 and settings.retry_schedule == (0.0, 1.0, 2.5)
    assert settings.secret_key == "s3cret" and settings.strict_schemas and not settings.in_process_worker
    assert settings.base_url == "https://hooks.example.org" and settings.timeout == 15
    assert not list(tmp_path.glob("*.secret-key"))


def test_overrides_win_and_none_is_ignored(tmp_path: Path) -> None:
    env = {"BILLRUN_CONNECTOR_PORT": "9090", "BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}
    settings = Settings.load(environ=env, port=7000, host=None, allowed_networks=["127.0.0.0/8"], retry_scale=0)
    assert settings.port == 7000 and settings.host == "127.0.0.1"
    assert settings.allowed_networks == ("127.0.0.0/8",) and settings.retry_scale == 0.0
    assert settings.replace(port=7001, timeout=None).port == 7001
    assert Settings.load(environ=env, port="7002").port == 7002


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BILLRUN_CONNECTOR_PORT": "http"}, "BILLRUN_CONNECTOR_PORT"),
        ({"BILLRUN_CONNECTOR_PORT": "70000"}, "BILLRUN_CONNECTOR_PORT"),
        ({"BILLRUN_CONNECTOR_ALLOWED_NETWORKS": "10.0.0.0/8,not-a-net"}, "not-a-net"),
        ({"BILLRUN_CONNECTOR_STRICT_SCHEMAS": "maybe"}, "BILLRUN_CONNECTOR_STRICT_SCHEMAS"),
        ({"BILLRUN_CONNECTOR_RETRY_SCHEDULE": "1,x"}, "BILLRUN_CONNECTOR_RETRY_SCHEDULE"),
        ({"BILLRUN_CONNECTOR_RETRY_SCHEDULE": "1,-5"}, "BILLRUN_CONNECTOR_RETRY_SCHEDULE"),
        ({"BILLRUN_CONNECTOR_TIMEOUT": "0"}, "BILLRUN_CONNECTOR_TIMEOUT"),
        ({"BILLRUN_CONNECTOR_WORKER_THREADS": "0"}, "BILLRUN_CONNECTOR_WORKER_THREADS"),
        ({"BILLRUN_CONNECTOR_WORKER_NICE": "20"}, "BILLRUN_CONNECTOR_WORKER_NICE"),
        ({"BILLRUN_CONNECTOR_WORKER_NICE": "-5"}, "BILLRUN_CONNECTOR_WORKER_NICE"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Settings.load(environ={"BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env})


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.load(environ={}, database_url=f"sqlite:///{tmp_path}/x.db", colour="red")


def test_postgresql_needs_an_explicit_secret() -> None:
    env = {"BILLRUN_CONNECTOR_DATABASE_URL": "postgresql://db.internal/connector"}
    with pytest.raises(ConfigError, match="BILLRUN_CONNECTOR_SECRET_KEY"):
        Settings.load(environ=env)
    assert Settings.load(environ=env, resolve_secret=False).secret_key == ""
    assert Settings.load(environ={**env, "BILLRUN_CONNECTOR_SECRET_KEY": "k"}).secret_key == "k"


def test_in_memory_sqlite_gets_a_fresh_secret() -> None:
    first = Settings.load(environ={}, database_url="sqlite://")
    second = Settings.load(environ={}, database_url="sqlite:///:memory:")
    assert first.secret_key and second.secret_key and first.secret_key != second.secret_key


@pytest.mark.parametrize(
    ("env", "overrides"),
    [
        ({"BILLRUN_CONNECTOR_LEASE_SECONDS": "30"}, {}),  # the default timeout 15 s needs 31 s
        ({"BILLRUN_CONNECTOR_TIMEOUT": "30"}, {}),  # the default lease 60 s is too short for it
        ({}, {"lease_seconds": 4, "timeout": 2}),
    ],
)
def test_a_lease_too_short_for_a_delivery_is_refused_naming_both_variables(
    tmp_path: Path, env: dict[str, str], overrides: dict[str, float]
) -> None:
    environ = {"BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env}
    with pytest.raises(ConfigError, match="BILLRUN_CONNECTOR_LEASE_SECONDS .* BILLRUN_CONNECTOR_TIMEOUT") as error:
        Settings.load(environ=environ, resolve_secret=False, **overrides)
    assert "at least 2 x TIMEOUT + 1" in str(error.value)


def test_the_shortest_lease_a_delivery_fits_in_is_accepted(tmp_path: Path) -> None:
    environ = {"BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    settings = Settings.load(environ=environ, resolve_secret=False, lease_seconds=31, timeout=15)
    assert settings.lease_seconds == 31
    with pytest.raises(ConfigError, match="LEASE_SECONDS"):
        settings.replace(timeout=15.5)
