"""``keys``, ``db upgrade`` and ``serve`` (a real waitress process on a free loopback port)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from connector.cli import main
from connector.storage import Database
from connector.storage.migrate import current_revision, head_revision


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result


def test_db_upgrade_reaches_head(db_url: str) -> None:
    result = run("db", "upgrade", "--database-url", db_url)
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    database = Database(db_url)
    assert current_revision(database) == head_revision()
    database.dispose()


def test_keys_create_prints_the_key_last_and_list_and_revoke(db_url: str) -> None:
    created = run("keys", "create", "--tenant", "acme", "--label", "zapier", "--database-url", db_url)
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert re.fullmatch(r"brc_[A-Za-z0-9]{40}", key)
    admin = run("keys", "create", "--tenant", "ops", "--admin", env={"BILLRUN_CONNECTOR_DATABASE_URL": db_url})
    assert admin.exit_code == 0 and "admin key" in admin.output

    listed = run("keys", "list", "--database-url", db_url)
    assert listed.exit_code == 0
    assert key not in listed.output and key[:12] in listed.output
    assert "zapier" in listed.output and "acme" in listed.output and "ops" in listed.output
    only_acme = run("keys", "list", "--tenant", "acme", "--database-url", db_url).output
    assert "ops " not in only_acme

    key_id = next(line.split()[0] for line in listed.output.splitlines() if "zapier" in line)
    revoked = run("keys", "revoke", key_id, "--database-url", db_url)
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert "revoked" in run("keys", "list", "--tenant", "acme", "--database-url", db_url).output
    missing = run("keys", "revoke", "key_nope", "--database-url", db_url)
    assert missing.exit_code == 1 and "no key 'key_nope'" in missing.output


def test_keys_create_needs_a_tenant(db_url: str) -> None:
    assert run("keys", "create", "--database-url", db_url).exit_code == 2
    assert run("keys", "create", "--tenant", "  ", "--database-url", db_url).exit_code == 2
    assert run("keys", "create", "--tenant", "t" * 201, "--database-url", db_url).exit_code == 2


def test_bad_settings_are_usage_errors(tmp_path: Path) -> None:
    result = run(
        "keys",
        "list",
        env={"BILLRUN_CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "BILLRUN_CONNECTOR_PORT": "eighty"},
    )
    assert result.exit_code == 2 and "BILLRUN_CONNECTOR_PORT" in result.output


def _wait_for_port(process: subprocess.Popen[str], deadline: float) -> int:
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
    raise AssertionError("serve did not report its port")


def test_serve_runs_waitress_and_answers_both_apis(tmp_path: Path, db_url: str) -> None:
    key = run("keys", "create", "--tenant", "acme", "--database-url", db_url).output.strip().splitlines()[-1]
    env = {**os.environ, "BILLRUN_CONNECTOR_IN_PROCESS_WORKER": "false", "BILLRUN_CONNECTOR_SECRET_KEY": "test-secret"}
    env.pop("BILLRUN_CONNECTOR_DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from connector.cli import main; main()",
            "serve",
            "--database-url",
            db_url,
            "--port",
            "0",
            "--allow-network",
            "127.0.0.0/8",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        port = _wait_for_port(process, time.monotonic() + 60)
        base = f"http://127.0.0.1:{port}"
        health = requests.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert health.headers["Server"] == "billrun-connector"  # waitress's ident, not a development server
        headers = {"Authorization": f"Bearer {key}"}
        hook = requests.post(
            f"{base}/api/v1/hooks",
            json={"url": "http://127.0.0.1:9/x", "event": "subscribers.update"},
            headers=headers,
            timeout=10,
        )
        assert hook.status_code == 201
        plugin = requests.get(
            f"{base}/plugins/webhooks/read/{hook.json()['id']}", params={"access_token": key}, timeout=10
        ).json()
        assert plugin["status"] == 1
        assert (
            requests.delete(f"{base}/api/v1/hooks/{hook.json()['id']}", headers=headers, timeout=10).status_code == 204
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise
        finally:
            assert process.stderr is not None
            process.stderr.close()
    assert returncode == 0  # SIGTERM stops the service cleanly


def test_help_imports_no_storage_nor_http_client() -> None:
    """``billrun-connector --help`` stays fast: the command line imports storage, SQLAlchemy and
    requests only inside the commands that use them."""
    import subprocess
    import sys

    probe = (
        "import sys; from click.testing import CliRunner; from connector.cli import main; "
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0; "
        "print(sorted(m for m in ('sqlalchemy', 'requests', 'alembic', 'flask', 'connector.storage') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
