"""Benchmark of the connector on loopback: ingest, delivery and signing, each against a baseline.

    .venv/bin/python bench/run.py            # full run (about a minute)
    .venv/bin/python bench/run.py --quick    # smaller counts

Measured side by side in one run, printing each ratio:
  (a) POST /ingest/billrun/<token> against a no-op endpoint of the same server, same client:
      requests/s (one client, back to back, the two endpoints in alternating blocks) and p50/p99
      latency; then p50/p99 at a paced 200 events/s;
  (b) deliveries/s from a queue of N due deliveries to the receiver's acknowledgement, against a plain
      pooled requests.Session POST loop to the same receiver;
  (c) signatures/s of our signer against the standardwebhooks library, same 2 KB body.
The server and the receiver run in their own processes; everything uses SQLite in a temporary folder.
This is not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from connector.storage import Database


# --- roles run in child processes -------------------------------------------------------------


def serve_app(database_url: str) -> None:
    """The connector under waitress, plus a no-op endpoint on the same app; prints its port."""
    from flask import jsonify
    from waitress import create_server

    from connector.app import create_app

    app = create_app(database_url=database_url, secret_key="bench", in_process_worker=False)

    @app.post("/bench/noop")
    def noop():  # type: ignore[no-untyped-def]
        return jsonify(status=1)

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    print(server.effective_port, flush=True)
    server.run()


def serve_receiver() -> None:
    """A receiver that answers 200 to every POST and reports how many it got at GET /count."""
    lock = threading.Lock()
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                count[0] += 1
            self._answer(b"ok")

        def do_GET(self) -> None:
            with lock:
                self._answer(str(count[0]).encode())

        def _answer(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def child(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        raise SystemExit(f"{args[0]} did not start")
    return process, int(line)


# --- measurements -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def back_to_back(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], n: int
) -> tuple[float, list[float]]:
    latencies = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        response = session.post(url, data=body, headers=headers)
        latencies.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")
    return n / (time.perf_counter() - started), latencies


def interleaved(
    session: requests.Session, noop: str, ingest: str, body: bytes, headers: dict[str, str], n: int, rounds: int = 10
) -> tuple[float, list[float], float, list[float]]:
    """Both endpoints in alternating blocks, so that both see the same load on a shared machine."""
    seconds = {noop: 0.0, ingest: 0.0}
    latencies: dict[str, list[float]] = {noop: [], ingest: []}
    for round_ in range(rounds):
        for url in (noop, ingest) if round_ % 2 == 0 else (ingest, noop):
            rate, block = back_to_back(session, url, body, headers, n // rounds)
            seconds[url] += len(block) / rate
            latencies[url] += block
    return (
        len(latencies[noop]) / seconds[noop],
        latencies[noop],
        len(latencies[ingest]) / seconds[ingest],
        latencies[ingest],
    )


def paced(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], rate: float, seconds: float
) -> list[float]:
    latencies = []
    interval = 1 / rate
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        due = start + i * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        session.post(url, data=body, headers=headers).raise_for_status()
        latencies.append(time.perf_counter() - t0)
    return latencies


def bench_ingest(tmp: Path, n: int, paced_seconds: float) -> dict[str, float]:
    from connector.billrun_wire import FORM_CONTENT_TYPE, encode_form
    from connector.catalog import get_catalog
    from connector.ingest_urls import ingest_url
    from connector.storage import Database, ingest_tokens, tenants, upgrade
    from connector.storage.subscriptions import create_subscription

    database_url = f"sqlite:///{tmp / 'ingest.db'}"
    db = Database(database_url)
    upgrade(db)
    with db.session() as s:
        tenant = tenants.get_or_create_tenant(s, "bench")
        s.flush()
        token = ingest_tokens.create_ingest_token(s, tenant, "billrun")
        create_subscription(
            s, tenant_id=tenant.id, events=["subscribers.trackchanges"], target_url="http://127.0.0.1:9/hook"
        )
        token_id = token.id
    db.dispose()
    server, port = child("--role", "app", database_url)
    try:
        base = f"http://127.0.0.1:{port}"
        ingest = base + "/ingest/billrun/" + ingest_url(base, "bench", token_id).rsplit("/", 1)[1]
        body = encode_form("subscribers.update", get_catalog().samples("subscribers.update")[0]["data"])
        headers = {"Content-Type": FORM_CONTENT_TYPE}
        session = requests.Session()
        for url in (base + "/bench/noop", ingest):  # warm up both paths
            back_to_back(session, url, body, headers, 100)
        noop_rate, noop_lat, ingest_rate, ingest_lat = interleaved(
            session, base + "/bench/noop", ingest, body, headers, n
        )
        paced_lat = paced(session, ingest, body, headers, 200, paced_seconds)
    finally:
        server.terminate()
        server.wait(10)
    breakdown = ingest_breakdown(database_url, token_id, body)
    return {
        **breakdown,
        "body_bytes": len(body),
        "noop_rps": noop_rate,
        "ingest_rps": ingest_rate,
        "noop_p50_ms": statistics.median(noop_lat) * 1000,
        "noop_p99_ms": percentile(noop_lat, 0.99) * 1000,
        "ingest_p50_ms": statistics.median(ingest_lat) * 1000,
        "ingest_p99_ms": percentile(ingest_lat, 0.99) * 1000,
        "paced_p50_ms": statistics.median(paced_lat) * 1000,
        "paced_p99_ms": percentile(paced_lat, 0.99) * 1000,
        "paced_count": len(paced_lat),
    }


def ingest_breakdown(database_url: str, token_id: str, body: bytes, n: int = 300) -> dict[str, float]:
    """Where an ingest request's server time goes, measured in-process on the same body (ms each)."""
    from connector import billrun
    from connector.billrun_wire import FORM_CONTENT_TYPE
    from connector.catalog import get_catalog
    from connector.config import Settings
    from connector.services.events import accept_event
    from connector.services.runtime import Runtime
    from connector.storage import Database, ingest_tokens

    catalog = get_catalog()
    db = Database(database_url)
    runtime = Runtime(Settings.load(environ={}, database_url=database_url, secret_key="bench"), db, catalog)
    delivery = billrun.parse_delivery(body, FORM_CONTENT_TYPE)
    event_type, data = delivery.type, delivery.data
    broken = {**data, "after": {**data["after"], "aid": "not a number"}}  # accepted, flagged with its errors
    assert catalog.validate_data(event_type, broken)

    def store() -> None:  # as the ingest endpoint does it: one transaction on a plain connection
        with db.engine.begin() as connection:
            found = ingest_tokens.active_ingest_source(connection, token_id)
            assert found is not None
            accept_event(
                runtime,
                connection,
                tenant_id=found[0],
                event_type=event_type,
                data=data,
                path="billrun",
                source=found[1],
                issues=[],
            )

    def timed(step: object) -> float:
        started = time.perf_counter()
        for _ in range(n):
            step()  # type: ignore[operator]
        return (time.perf_counter() - started) / n * 1000

    result = {
        "parse_ms": timed(lambda: billrun.parse_delivery(body, FORM_CONTENT_TYPE)),
        "validate_ms": timed(lambda: catalog.validate_data(event_type, data)),
        "validate_invalid_ms": timed(lambda: catalog.validate_data(event_type, broken)),
        "store_ms": timed(store),
    }
    db.dispose()
    return result


def wait_count(session: requests.Session, base: str, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while int(session.get(base + "/count").text) < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"the receiver did not get {target} requests in {timeout} s")
        time.sleep(0.01)


def wait_recorded(db: Database, target: int, timeout: float) -> None:
    from sqlalchemy import func, select

    from connector.storage.models import Delivery

    deadline = time.monotonic() + timeout
    while True:
        with db.session() as s:
            if s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "succeeded")) >= target:
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"{target} deliveries were not recorded as succeeded in {timeout} s")
        time.sleep(0.01)


def bench_delivery(tmp: Path, n: int) -> dict[str, float]:
    from connector.catalog import get_catalog
    from connector.config import Settings
    from connector.delivery.signing import Signer, envelope_body
    from connector.delivery.worker import Worker
    from connector.services.events import accept_event
    from connector.services.runtime import Runtime
    from connector.storage import Database, tenants, upgrade
    from connector.storage.subscriptions import create_subscription

    receiver, port = child("--role", "receiver")
    try:
        base = f"http://127.0.0.1:{port}"
        hook = base + "/hook"
        data = {"after": {"aid": 1, "sid": 12, "firstname": "yossi", "plan": "D"}}
        probe = requests.Session()

        # Baseline: a plain pooled session posting the same signed bodies, one after another.
        plain = requests.Session()
        secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        signer = Signer([secret])
        bodies = [
            envelope_body(
                {"id": f"evt_{i}", "type": "subscribers.update", "timestamp": "2024-01-31T00:00:00Z", "data": data}
            )
            for i in range(n)
        ]
        started = time.perf_counter()
        for i, body in enumerate(bodies):
            headers = {"Content-Type": "application/json", **signer.headers(f"evt_{i}", int(time.time()), body)}
            plain.post(hook, data=body, headers=headers).raise_for_status()
        plain_rate = n / (time.perf_counter() - started)
        wait_count(probe, base, n, 60)

        database_url = f"sqlite:///{tmp / 'delivery.db'}"
        settings = Settings.load(
            environ={}, database_url=database_url, secret_key="bench", allowed_networks=("127.0.0.0/8",)
        )
        db = Database(database_url)
        upgrade(db)
        runtime = Runtime(settings, db, get_catalog())
        with db.session() as s:
            tenant = tenants.get_or_create_tenant(s, "bench")
            s.flush()
            sub = create_subscription(s, tenant_id=tenant.id, events=["subscribers.update"], target_url=hook)
            s.flush()
            for _ in range(n):
                accept_event(
                    runtime,
                    s,
                    tenant_id=tenant.id,
                    event_type="subscribers.update",
                    data=data,
                    path="test",
                    source="bench",
                    issues=[],
                    only_subscription_id=sub.id,
                )
        worker = Worker(db, settings, poll_seconds=0.01)
        started = time.perf_counter()
        worker.start()
        wait_count(probe, base, 2 * n, 120)
        worker_rate = n / (time.perf_counter() - started)
        wait_recorded(db, n, 60)  # and every attempt logged, every delivery marked succeeded
        recorded_rate = n / (time.perf_counter() - started)
        worker.stop(30)
        db.dispose()
    finally:
        receiver.terminate()
        receiver.wait(10)
    return {
        "plain_dps": plain_rate,
        "worker_dps": worker_rate,
        "recorded_dps": recorded_rate,
        "threads": settings.worker_threads,
    }


def bench_signing(n: int) -> dict[str, float]:
    import standardwebhooks

    from connector.delivery.signing import Signer

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps(
        {
            "id": "evt_x",
            "type": "subscribers.update",
            "timestamp": "2024-01-31T00:00:00Z",
            "data": {"blob": "x" * 1950},
        },
        separators=(",", ":"),
    ).encode()
    ours, theirs = Signer([secret]), standardwebhooks.Webhook(secret)
    moment = datetime.now(UTC)
    seconds = int(moment.timestamp())
    text = body.decode()
    best_ours = best_theirs = 0.0
    for _ in range(5):  # interleaved rounds; the best of each is least disturbed by other load
        started = time.perf_counter()
        for _ in range(n):
            ours.signature("evt_x", seconds, body)
        best_ours = max(best_ours, n / (time.perf_counter() - started))
        started = time.perf_counter()
        for _ in range(n):
            theirs.sign("evt_x", moment, text)
        best_theirs = max(best_theirs, n / (time.perf_counter() - started))
    assert ours.signature("evt_x", seconds, body) == theirs.sign("evt_x", moment, text)
    return {"ours_sps": best_ours, "reference_sps": best_theirs, "body_bytes": len(body)}


def report_ingest(i: dict[str, float], n_ingest: int) -> None:
    print(
        f"\n(a) ingest, {i['body_bytes']:.0f}-byte BillRun form body, one client back to back, {n_ingest} requests each in 10 alternating blocks"
    )
    print(
        f"    no-op endpoint  {i['noop_rps']:8.0f} req/s   p50 {i['noop_p50_ms']:.2f} ms   p99 {i['noop_p99_ms']:.2f} ms"
    )
    print(
        f"    ingest          {i['ingest_rps']:8.0f} req/s   p50 {i['ingest_p50_ms']:.2f} ms   p99 {i['ingest_p99_ms']:.2f} ms"
    )
    print(f"    ratio ingest/no-op: {i['ingest_rps'] / i['noop_rps']:.2f}x   (target >= 0.5x)")
    print(
        f"    server time per ingest, in-process: parse+normalise {i['parse_ms']:.2f} ms, schema validation "
        f"{i['validate_ms']:.2f} ms ({i['validate_invalid_ms']:.2f} ms for a payload with an error), "
        f"token check + event + deliveries transaction {i['store_ms']:.2f} ms"
    )
    print(
        f"    paced at 200 events/s ({i['paced_count']:.0f} requests): p50 {i['paced_p50_ms']:.2f} ms   "
        f"p99 {i['paced_p99_ms']:.2f} ms   (target p99 <= 10 ms)",
        flush=True,
    )


def report_delivery(d: dict[str, float], n_delivery: int) -> None:
    print(f"\n(b) delivery of {n_delivery} queued events to a loopback receiver")
    print(f"    plain requests.Session loop  {d['plain_dps']:8.0f} deliveries/s")
    print(
        f"    connector worker ({d['threads']:.0f} threads)  {d['worker_dps']:8.0f} deliveries/s (queue -> receiver ack)"
    )
    print(f"    ratio worker/plain: {d['worker_dps'] / d['plain_dps']:.2f}x   (target >= 0.6x)")
    print(
        f"    until every delivery is also recorded as succeeded: {d['recorded_dps']:.0f} deliveries/s "
        f"({d['recorded_dps'] / d['plain_dps']:.2f}x)",
        flush=True,
    )


def report_signing(s: dict[str, float], n_sign: int) -> None:
    print(f"\n(c) signing a {s['body_bytes']:.0f}-byte body, {n_sign} signatures, best of 5")
    print(f"    standardwebhooks  {s['reference_sps']:10.0f} signatures/s")
    print(f"    connector signer  {s['ours_sps']:10.0f} signatures/s")
    print(f"    ratio ours/reference: {s['ours_sps'] / s['reference_sps']:.2f}x   (target >= 1.0x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts (about 15 s)")
    parser.add_argument(
        "--only", choices=("a", "b", "c"), action="append", help="run only this part (repeatable); all three by default"
    )
    parser.add_argument("--role", choices=("app", "receiver"), help=argparse.SUPPRESS)
    parser.add_argument("database_url", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "app":
        serve_app(args.database_url)
        return
    if args.role == "receiver":
        serve_receiver()
        return
    n_ingest, n_delivery, n_sign, paced_seconds = (500, 500, 20_000, 2) if args.quick else (3000, 3000, 100_000, 10)
    with tempfile.TemporaryDirectory(prefix="billrun-bench-") as folder:
        tmp = Path(folder)
        print(f"billrun-connector benchmark on {os.cpu_count()} cores, SQLite, loopback", flush=True)
        parts = set(args.only or ("a", "b", "c"))
        if "a" in parts:
            report_ingest(bench_ingest(tmp, n_ingest, paced_seconds), n_ingest)
        if "b" in parts:
            report_delivery(bench_delivery(tmp, n_delivery), n_delivery)
        if "c" in parts:
            report_signing(bench_signing(n_sign), n_sign)


if __name__ == "__main__":
    main()
