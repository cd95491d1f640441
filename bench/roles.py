"""The processes the bench starts, each on its own interpreter: ``python -m bench.roles ROLE ...``.

- ``app``: the connector under waitress (as ``billrun-connector serve`` hosts it), plus the no-op
  endpoint; prints its port.
- ``worker``: a delivery worker, the same ``Worker`` the ``billrun-connector worker`` command runs,
  with its defaults and its CPU priority lowered as there (``worker.background``); ``--purge-every``
  sets how often it purges (the retention scenario); prints ``ready``, stops gracefully on SIGTERM.
- ``receiver``: a fast loopback webhook receiver (asyncio, keep-alive) answering 200 ``ok`` to every
  POST; ``GET /stats`` gives the signed POSTs it got, the distinct paths, and the monotonic times of
  the first and the last; ``GET /reset`` starts counting again. Prints its port.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from typing import Any


def serve_app(database_url: str, threads: int, in_process_worker: bool) -> None:
    from waitress import create_server

    from bench.config import settings
    from bench.noop import add_noop
    from connector.app import create_app

    app = create_app(settings(database_url, in_process_worker=in_process_worker))
    add_noop(app)
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    print(server.effective_port, flush=True)
    server.run()


def run_worker(database_url: str, threads: int, purge_every: float | None) -> None:
    from bench.config import settings
    from connector.delivery.worker import PURGE_EVERY_SECONDS, Worker, background
    from connector.storage import Database, upgrade

    worker_settings = settings(database_url, worker_threads=threads)
    background(worker_settings)  # as the worker command does
    database = Database(database_url)
    upgrade(database)
    worker = Worker(
        database,
        worker_settings,
        purge_every_seconds=PURGE_EVERY_SECONDS if purge_every is None else purge_every,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.request_stop())
    print("ready", flush=True)
    worker.run()
    database.dispose()


class _Counts:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.signed = 0
        self.unsigned = 0
        self.paths: set[bytes] = set()
        self.first = 0.0
        self.last = 0.0

    def record(self, path: bytes, signed: bool) -> None:
        now = time.monotonic()
        if signed:
            self.signed += 1
        else:
            self.unsigned += 1
        self.paths.add(path)
        self.first = self.first or now
        self.last = now

    def as_json(self) -> bytes:
        answer: dict[str, Any] = {
            "signed": self.signed,
            "unsigned": self.unsigned,
            "paths": len(self.paths),
            "first": self.first,
            "last": self.last,
        }
        return json.dumps(answer).encode()


async def _receive(counts: _Counts) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, _, headers = head.partition(b"\r\n")
                method, path, _ = request_line.split(b" ", 2)
                length = 0
                signed = False
                for line in headers.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"webhook-signature":
                        signed = value.strip().startswith(b"v1,")
                if length:
                    await reader.readexactly(length)
                body = b"ok"
                if method == b"POST":
                    counts.record(path, signed)
                elif path == b"/stats":
                    body = counts.as_json()
                elif path == b"/reset":
                    counts.reset()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.roles")
    parser.add_argument("role", choices=("app", "worker", "receiver"))
    parser.add_argument("--database-url")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--in-process-worker", action="store_true")
    parser.add_argument("--purge-every", type=float)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.role == "receiver":
        asyncio.run(_receive(_Counts()))
    elif not args.database_url:
        sys.exit("--database-url is needed")
    elif args.role == "app":
        serve_app(args.database_url, args.threads, args.in_process_worker)
    else:
        run_worker(args.database_url, args.threads, args.purge_every)


if __name__ == "__main__":
    main()
