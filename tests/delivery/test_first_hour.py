"""The first hour on a fresh clone, through the real ``billrun-connector`` process.

A busy port or a bad flag is one line and exit code 2; every command says which database it opens
and warns when it makes a new one; the commands and the server find one database from any folder of
a checkout; ``ingest-url`` makes URLs for the port the server really listens on; ``serve`` says at
start where everything is, then logs one line per request and per delivery attempt; ``fire`` says
plainly when the host cannot be reached.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from process_control import stop

from connector.cli import main

from .receiver import Receiver

BIN = Path(sys.executable).with_name("billrun-connector")  # the console script, as a user runs it
TIMEOUT = 60


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any connector setting, as on a fresh machine, plus *extra*."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BILLRUN_CONNECTOR_")}
    return {**env, **extra}


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder laid out as a clone: ``.git`` at the top, some folders below it."""
    top = tmp_path / "clone"
    (top / ".git").mkdir(parents=True)
    (top / "docs" / "images").mkdir(parents=True)
    (top / "scripts").mkdir()
    return top


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_one_line_naming_the_fix(tmp_path: Path, busy_port: int) -> None:
    result = cli("serve", "--port", str(busy_port), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(
        rf"Error: port {busy_port} on 127\.0\.0\.1 is already in use \(by another program, or a connector already "
        rf"running\); start on another port with --port, e\.g\. `\./scripts/serve --port (\d+)` or "
        rf"`billrun-connector serve --port \1`",
        lines[0],
    ), lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing else started: no database, no secret key


def test_the_suggested_port_is_free(tmp_path: Path, busy_port: int) -> None:
    result = cli("serve", "--port", str(busy_port), cwd=tmp_path)
    suggested = int(re.findall(r"--port (\d+)", result.stderr)[-1])
    assert suggested > busy_port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", suggested))


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["--port", "70000"], {}, "Invalid value for '--port': 70000 is not in the range 0<=x<=65535"),
        (["--port", "eighty"], {}, "Invalid value for '--port': 'eighty' is not a valid integer range"),
        (["--prot", "8081"], {}, "No such option '--prot'. (Did you mean one of: '--host', '--port'?)"),
        ([], {"BILLRUN_CONNECTOR_PORT": "eighty"}, "BILLRUN_CONNECTOR_PORT: cannot use 'eighty'"),
        (["--host", "192.0.2.55"], {}, "192.0.2.55 is not an address of this machine; choose one with --host"),
    ],
    ids=["out-of-range", "not-a-number", "misspelt-flag", "bad-variable", "foreign-address"],
)
def test_bad_flags_exit_2_without_a_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], needle: str
) -> None:
    result = cli("serve", *args, cwd=tmp_path, env=clean_env(**env))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and needle in errors[0], result.stderr


def test_every_command_says_which_database_and_one_checkout_has_one(checkout: Path, tmp_path: Path) -> None:
    database = checkout / "billrun-connector.db"
    first = cli("keys", "create", "--tenant", "acme", cwd=checkout / "docs" / "images")
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines()[0] == f"database: sqlite:///{database}"
    assert f"warning: {database} does not exist yet, so this command creates a new, empty database" in first.stderr
    key = first.stdout.strip().splitlines()[-1]

    for args, folder in (
        (["keys", "list"], checkout),
        (["db", "upgrade"], checkout / "scripts"),
        (["ingest-urls", "list"], checkout / "docs"),
    ):
        result = cli(*args, cwd=folder)
        assert result.returncode == 0, result.stderr
        assert result.stderr.splitlines() == [f"database: sqlite:///{database}"], args
    assert key[:12] in cli("keys", "list", cwd=checkout).stdout

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    stray = cli("keys", "create", "--tenant", "acme", cwd=elsewhere)
    assert stray.returncode == 0
    assert f"database: sqlite:///{elsewhere / 'billrun-connector.db'}" in stray.stderr
    assert "a server started from another folder uses another one" in stray.stderr

    given = tmp_path / "given.db"  # a new file named on purpose is said in passing, not warned about
    named = cli("keys", "list", "--database-url", f"sqlite:///{given}", cwd=elsewhere)
    assert named.returncode == 0
    assert named.stderr.splitlines() == [
        f"database: sqlite:///{given}",
        f"database: {given} does not exist yet: creating it",
    ]


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    bad = cli("keys", "list", "--database-url", "not-a-url", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "'not-a-url' is not a database URL (--database-url or BILLRUN_CONNECTOR_DATABASE_URL)" in bad.stderr
    missing = cli("keys", "list", "--database-url", f"sqlite:///{tmp_path}/no/such/folder/x.db", cwd=tmp_path)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines()[-1] == (
        f"Error: cannot open the database sqlite:///{tmp_path}/no/such/folder/x.db: unable to open database file"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BILLRUN_CONNECTOR_PORT": "9001"}, "http://127.0.0.1:9001/ingest/billrun/"),
        ({"BILLRUN_CONNECTOR_HOST": "::1", "BILLRUN_CONNECTOR_PORT": "9002"}, "http://[::1]:9002/ingest/billrun/"),
        ({"BILLRUN_CONNECTOR_HOST": "0.0.0.0"}, "http://127.0.0.1:8080/ingest/billrun/"),
        ({"BILLRUN_CONNECTOR_BASE_URL": "https://hooks.example.org"}, "https://hooks.example.org/ingest/billrun/"),
    ],
    ids=["port", "ipv6", "wildcard", "base-url"],
)
def test_ingest_url_follows_the_configured_host_and_port(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    result = cli("ingest-url", "--tenant", "acme", cwd=tmp_path, env=clean_env(**env))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(expected)


def test_fire_says_when_the_host_cannot_be_reached(monkeypatch: pytest.MonkeyPatch, busy_port: int) -> None:
    """The README's old example: an ingest URL on a host this machine cannot resolve. DNS cannot run
    here, so the name's lookup fails as it does on a machine where it does not resolve."""
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host == "connector.example.org":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    unresolved = CliRunner().invoke(main, ["fire", "subscribers.update", "--url", "https://connector.example.org/x"])
    assert unresolved.exit_code == 1
    assert unresolved.output.strip() == (
        "Error: could not reach connector.example.org: the host name does not resolve (no such host here); check "
        "the URL: an ingest URL made with --base-url points at that host, so for the connector on this machine "
        "make one without --base-url"
    )
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    refused = CliRunner().invoke(main, ["fire", "subscribers.update", "--url", f"http://127.0.0.1:{port}/x"])
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        f"Error: could not reach 127.0.0.1:{port}: nothing listens there (connection refused); "
        "is the connector running?"
    )


@pytest.fixture
def serving(checkout: Path) -> Iterator[tuple[subprocess.Popen[str], Path, str]]:
    """``billrun-connector serve --port 0`` started from a folder of the checkout, its log, its URL."""
    log = checkout.parent / "serve.log"
    env = clean_env(BILLRUN_CONNECTOR_RETRY_SCALE="0.001")
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN), "serve", "--port", "0", "--allow-network", "127.0.0.0/8"],
            cwd=checkout / "scripts",
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + TIMEOUT
        match = None
        while match is None and time.monotonic() < deadline and process.poll() is None:
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+) ", log.read_text())
            time.sleep(0.1)
        assert match, log.read_text()
        yield process, log, match.group(1)
    finally:
        stop(process)


@pytest.mark.slow
def test_serve_then_the_readme_steps_from_other_folders(
    serving: tuple[subprocess.Popen[str], Path, str], checkout: Path
) -> None:
    process, log, base = serving
    database = checkout / "billrun-connector.db"
    start = log.read_text()
    assert f"database: sqlite:///{database}" in start
    assert "in-process delivery worker, allowed target networks: 127.0.0.0/8" in start
    assert f"(console {base}/, API docs {base}/docs, metrics {base}/metrics)" in start

    receiver = Receiver()
    try:
        made = cli("ingest-url", "--tenant", "acme", cwd=checkout / "docs")
        assert made.returncode == 0, made.stderr
        ingest = made.stdout.strip().splitlines()[-1]
        assert ingest.startswith(f"{base}/ingest/billrun/")  # the port serve really took, not 8080
        assert f"base URL: {base} (where `billrun-connector serve` on this database listens)" in made.stderr
        token = ingest.rsplit("/", 1)[1]

        key = cli("keys", "create", "--tenant", "acme", cwd=checkout / "docs" / "images").stdout.strip().split()[-1]
        hook = requests.post(
            f"{base}/api/v1/hooks",
            json={"target_url": receiver.url, "event": "subscribers.update"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert hook.status_code == 201, hook.text
        listed = requests.get(f"{base}/plugins/webhooks/list", params={"access_token": key}, timeout=10)
        assert listed.status_code == 200

        fired = cli("fire", "subscribers.update", "--url", ingest, cwd=checkout)
        assert fired.returncode == 0, fired.stdout + fired.stderr
        event_id = json.loads(fired.stdout.split("\n", 1)[1])["id"]
        receiver.wait_for(1, timeout=20)

        def logged(pattern: str) -> re.Match[str]:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                match = re.search(pattern, log.read_text())
                if match:
                    return match
                time.sleep(0.1)
            raise AssertionError(f"{pattern!r} not in the log:\n{log.read_text()}")

        logged(r"connector\.access: method=POST path=/api/v1/hooks status=201 duration_ms=\d+\.\d client=127\.0\.0\.1")
        logged(r'method=GET path="/plugins/webhooks/list\?access_token=\*\*\*" status=200 duration_ms=')
        logged(r"method=POST path=/ingest/billrun/\*\*\* ingest_url=ing_\w+ status=200 duration_ms=")
        logged(
            rf"connector\.delivery\.attempts: event={event_id} delivery=dlv_\w+ host=127\.0\.0\.1:{receiver.port} "
            r"attempt=1 status=200 duration_ms=\d+ outcome=succeeded retry_in=- error=-"
        )
        text = log.read_text()
        assert token not in text and key not in text  # credentials never reach the log
    finally:
        receiver.close()

    assert (checkout / "billrun-connector.db.server-url").read_text().strip() == base
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert not (checkout / "billrun-connector.db.server-url").exists()
