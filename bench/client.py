"""The bench's HTTP client: BillRun's side of the ingest (one keep-alive connection per client,
urllib3, whose own cost per request is about a third of a requests session's), and percentiles.

A lighter client leaves less of the round trip to the client, so a ratio against the no-op
endpoint is stricter with it than with requests.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import urllib3

from bench.report import BenchError


def keep_alive(port: int) -> urllib3.HTTPConnectionPool:
    """One keep-alive connection to the connector on loopback."""
    return urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, block=True, retries=False, timeout=60.0)


def post(client: urllib3.HTTPConnectionPool, path: str, body: bytes, headers: dict[str, str]) -> float:
    """POST and read the answer; its latency in seconds. Anything but 200 stops the run."""
    started = time.perf_counter()
    response = client.urlopen("POST", path, body=body, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise BenchError(f"POST {path[:40]} answered {response.status}: {response.data[:200]!r}")
    return elapsed


def percentile(values: list[float], q: float) -> float:
    """The value below which a fraction *q* of *values* lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q * len(ordered)))) - 1]


def ms(seconds: float) -> float:
    return seconds * 1000


@dataclass
class Block:
    """Latencies of one endpoint and the seconds its blocks took."""

    latencies: list[float]
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99)


def back_to_back(
    clients: list[urllib3.HTTPConnectionPool], path: str, body: bytes, headers: dict[str, str], per_client: int
) -> Block:
    """Every client posts *per_client* requests one after the other, all clients at once."""

    def one(client: urllib3.HTTPConnectionPool) -> list[float]:
        return [post(client, path, body, headers) for _ in range(per_client)]

    started = time.perf_counter()
    if len(clients) == 1:
        latencies = one(clients[0])
    else:
        with ThreadPoolExecutor(len(clients)) as pool:
            latencies = [x for part in pool.map(one, clients) for x in part]
    return Block(latencies, time.perf_counter() - started)


def alternating(
    clients: list[urllib3.HTTPConnectionPool],
    paths: tuple[str, str],
    body: bytes,
    headers: dict[str, str],
    per_path: int,
    blocks: int = 10,
) -> tuple[Block, Block]:
    """The two endpoints in alternating blocks (A B, B A, A B, ...), so both see the same load on a
    shared machine; *per_path* requests each in all, spread over the clients."""
    results = (Block([]), Block([]))
    per_block = max(1, per_path // blocks // len(clients))
    for number in range(blocks):
        order = (0, 1) if number % 2 == 0 else (1, 0)
        for index in order:
            block = back_to_back(clients, paths[index], body, headers, per_block)
            results[index].latencies.extend(block.latencies)
            results[index].seconds += block.seconds
    return results


def paced(
    client: urllib3.HTTPConnectionPool,
    path: str,
    body: bytes,
    headers: dict[str, str],
    rate: float,
    seconds: float,
    stop: Callable[[], bool] | None = None,
) -> list[tuple[float, float]]:
    """Requests at *rate* per second for up to *seconds* (or until *stop()*): a request starts at its
    due time, or at once if the previous one ended after it. Returns (monotonic start, latency) pairs."""
    interval = 1 / rate
    start = time.perf_counter()
    offset = time.monotonic() - start
    timings = []
    for number in range(int(rate * seconds)):
        due = start + number * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if stop is not None and stop():
            break
        began = time.perf_counter()
        timings.append((began + offset, post(client, path, body, headers)))
    return timings


class PacedInBackground:
    """``paced`` on a thread of its own, stopped by ``finish()`` (or by its own time bound)."""

    def __init__(
        self,
        client: urllib3.HTTPConnectionPool,
        path: str,
        body: bytes,
        headers: dict[str, str],
        rate: float,
        seconds: float,
    ) -> None:
        self._done = threading.Event()
        self.timings: list[tuple[float, float]] = []
        self.error: BaseException | None = None

        def run() -> None:
            try:
                self.timings = paced(client, path, body, headers, rate, seconds, self._done.is_set)
            except BaseException as exc:
                self.error = exc

        self._thread = threading.Thread(target=run, name="paced-ingest", daemon=True)
        self._thread.start()

    def finish(self) -> list[tuple[float, float]]:
        self._done.set()
        self._thread.join()
        if self.error is not None:
            raise self.error
        return self.timings
