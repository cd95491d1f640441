"""One subscription changed or removed by several requests at once: they follow each other."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from flask import Flask

from .conftest import Key


def at_once(app: Flask, count: int, request: Any) -> list[int]:
    """Run *request* (given a test client) from *count* threads released together; their statuses."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def one() -> None:
        client = app.test_client()
        barrier.wait(10)
        statuses.append(request(client).status_code)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return statuses


def test_simultaneous_deletes_remove_once_and_the_rest_are_gone(app: Flask, key: Key, subscribe: Any) -> None:
    hook = subscribe()
    statuses = at_once(app, 6, lambda c: c.delete(f"/api/v1/hooks/{hook['id']}", headers=key.headers))
    assert Counter(statuses) == {204: 1, 410: 5}


def test_simultaneous_changes_all_apply_in_turn(app: Flask, client: Any, key: Key, subscribe: Any) -> None:
    hook = subscribe()
    events = [["subscribers.update"], ["accounts.create", "accounts.update"], ["*"], ["plans.*"]]
    turn = iter(events * 2)
    lock = threading.Lock()

    def patch(c: Any) -> Any:
        with lock:
            chosen = next(turn)
        return c.patch(f"/api/v1/hooks/{hook['id']}", json={"events": chosen}, headers=key.headers)

    assert at_once(app, 8, patch) == [200] * 8
    assert client.get(f"/api/v1/hooks/{hook['id']}", headers=key.headers).json["events"] in events


def test_a_change_racing_a_delete_is_applied_first_or_gone(app: Flask, key: Key, subscribe: Any) -> None:
    hook = subscribe()
    path = f"/api/v1/hooks/{hook['id']}"
    requests = iter(
        [lambda c: c.delete(path, headers=key.headers)]
        + [
            lambda c: c.post(f"{path}/rotate-secret", headers=key.headers),
            lambda c: c.patch(path, json={"status": "disabled"}, headers=key.headers),
        ]
        * 2
    )
    lock = threading.Lock()

    def next_request(c: Any) -> Any:
        with lock:
            chosen = next(requests)
        return chosen(c)

    statuses = Counter(at_once(app, 5, next_request))
    assert statuses[204] == 1 and set(statuses) <= {200, 204, 410}
