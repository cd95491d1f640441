"""Every branch of the retry policy."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connector.delivery.policy import DEFAULT_SCHEDULE, Outcome, RetryPolicy, parse_retry_after

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def policy(scale: float = 1.0) -> RetryPolicy:
    return RetryPolicy(DEFAULT_SCHEDULE, scale, random.Random(7))


def test_default_schedule_is_the_standard_webhooks_example() -> None:
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_succeeds(status: int) -> None:
    assert policy().decide(1, status).outcome is Outcome.SUCCEEDED


def test_410_is_gone_even_on_the_last_attempt() -> None:
    assert policy().decide(1, 410).outcome is Outcome.GONE
    assert policy().decide(10, 410).outcome is Outcome.GONE


@pytest.mark.parametrize("status", [None, 301, 302, 307, 400, 401, 404, 409, 413, 500, 502, 504])
def test_other_answers_retry_with_jitter(status: int | None) -> None:
    p = policy()
    for attempts_made, base in enumerate(DEFAULT_SCHEDULE[1:], start=1):
        decision = p.decide(attempts_made, status)
        assert decision.outcome is Outcome.RETRY
        assert decision.delay is not None and base * 0.8 <= decision.delay <= base * 1.2


def test_jitter_spreads_delays() -> None:
    p = policy()
    delays = {p.decide(2, 500).delay for _ in range(50)}
    assert len(delays) > 40 and min(delays) >= 240 and max(delays) <= 360  # type: ignore[type-var]


def test_schedule_runs_out() -> None:
    assert policy().decide(10, 500).outcome is Outcome.FAILED
    assert policy().decide(10, None).outcome is Outcome.FAILED


def test_scale_compresses_the_schedule() -> None:
    decision = policy(scale=0.001).decide(2, 500)
    assert decision.delay is not None and 0.24 <= decision.delay <= 0.36
    assert policy(scale=0.5).scheduled_delay(0) == 0


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(status: int) -> None:
    decision = policy().decide(2, status, "1000", NOW)  # scheduled ~300 s
    assert decision.outcome is Outcome.RETRY and decision.delay == 1000


def test_retry_after_never_shortens_the_schedule() -> None:
    decision = policy().decide(3, 429, "1", NOW)  # scheduled ~1800 s
    assert decision.delay is not None and decision.delay >= 1800 * 0.8


def test_retry_after_is_clamped_to_the_longest_step() -> None:
    decision = policy().decide(1, 503, str(10 * 86400), NOW)
    assert decision.delay == 86400
    scaled = policy(scale=0.01).decide(1, 503, "100000", NOW)
    assert scaled.delay == pytest.approx(864)


def test_retry_after_as_http_date() -> None:
    header = format_datetime(NOW + timedelta(seconds=600), usegmt=True)
    decision = policy().decide(1, 429, header, NOW)  # scheduled ~5 s
    assert decision.delay == pytest.approx(600)


def test_retry_after_ignored_for_other_statuses() -> None:
    decision = policy().decide(1, 500, "5000", NOW)
    assert decision.delay is not None and decision.delay <= 6


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("soon", None), ("120", 120.0)])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
