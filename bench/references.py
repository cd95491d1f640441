"""The reference for delivery: a pool of threads POSTing the same signed bodies to the same receiver.

Each thread takes the next body, signs it (Standard Webhooks, the subscription's secret, at send
time as the worker does) and POSTs it through a urllib3 pool manager with one keep-alive connection
per thread, reading the answer. It keeps no database, claims nothing and records nothing: it is
what the sending alone costs with that many threads, in one process.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import urllib3

from bench.report import BenchError
from connector.delivery.signing import Signer


@dataclass(frozen=True)
class Message:
    url: str
    msg_id: str
    body: bytes
    secret: str


@functools.lru_cache(maxsize=2048)
def _signer(secret: str) -> Signer:
    return Signer([secret])  # one per secret, its key decoded once, as the worker keeps them


def post_all(messages: Sequence[Message], threads: int) -> float:
    """Send every message with *threads* threads; the monotonic time they started."""
    pool = urllib3.PoolManager(maxsize=threads, block=True, retries=False, timeout=30.0)

    def send(message: Message) -> None:
        headers = {
            "Content-Type": "application/json",
            **_signer(message.secret).headers(message.msg_id, int(time.time()), message.body),
        }
        response = pool.request("POST", message.url, body=message.body, headers=headers, redirect=False)
        if response.status != 200:
            raise BenchError(f"the receiver answered {response.status}")

    started = time.monotonic()
    with ThreadPoolExecutor(threads, thread_name_prefix="reference") as executor:
        for result in [executor.submit(send, message) for message in messages]:
            result.result()
    pool.clear()
    return started
