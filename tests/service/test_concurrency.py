"""Subscriptions created from several threads at once, over real HTTP on loopback."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from .conftest import TARGET, Key

THREADS = 8
PER_THREAD = 5


def test_parallel_subscribes_through_both_apis(live_server_url: str, key: Key, other_key: Key) -> None:
    def work(worker: int) -> list[str]:
        made: list[str] = []
        with requests.Session() as http:
            for n in range(PER_THREAD):
                who = key if worker % 2 == 0 else other_key
                if n % 2 == 0:
                    response = http.post(
                        f"{live_server_url}/api/v1/hooks",
                        json={"url": TARGET, "events": ["subscribers.update"]},
                        headers=who.headers,
                        timeout=30,
                    )
                    assert response.status_code == 201, response.text
                    made.append(response.json()["id"])
                else:
                    response = http.post(
                        f"{live_server_url}/plugins/webhooks/create",
                        data={
                            "webhook_module": "subscribers",
                            "webhook_action": "update",
                            "webhook_url": TARGET,
                            "webhook_id": f"w{worker}_{n}",
                        },
                        headers=who.headers,
                        timeout=30,
                    )
                    assert response.json()["status"] == 1, response.text
                    made.append(response.json()["webhook"]["webhook_id"])
        return made

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    created = [item for result in results for item in result]
    assert len(created) == len(set(created)) == THREADS * PER_THREAD

    def listed(who: Key) -> list[str]:
        body = requests.get(f"{live_server_url}/plugins/webhooks/list", headers=who.headers, timeout=30).json()
        return [hook["webhook_id"] for hook in body["webhooks"]]

    expected_acme = {item for worker, result in enumerate(results) if worker % 2 == 0 for item in result}
    assert set(listed(key)) == expected_acme
    assert set(listed(other_key)) == set(created) - expected_acme


def test_parallel_creates_with_the_same_id_make_exactly_one(live_server_url: str, key: Key) -> None:
    def create(_: int) -> dict[str, Any]:
        response = requests.post(
            f"{live_server_url}/plugins/webhooks/create",
            data={
                "webhook_module": "accounts",
                "webhook_action": "create",
                "webhook_url": TARGET,
                "webhook_id": "race",
            },
            headers=key.headers,
            timeout=30,
        )
        return response.json()

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(create, range(THREADS)))
    assert sum(answer["status"] for answer in answers) == 1
    assert all("already has a webhook with id" in answer["message"] for answer in answers if answer["status"] == 0)
