"""The retry policy: what a response means and when the next attempt is due.

2xx succeeds. 410 disables the subscription (``gone``) at once. 3xx is a failure
(redirects are not followed). 429 and 503 honour ``Retry-After``, clamped between the
scheduled delay and the schedule's longest step. Everything else, timeouts and
connection errors included, is retried on the schedule with ±20 % jitter until it runs out.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from connector.config import DEFAULT_RETRY_SCHEDULE

# Standard Webhooks' example schedule: the delay before attempt n+1 is DEFAULT_SCHEDULE[n].
DEFAULT_SCHEDULE = DEFAULT_RETRY_SCHEDULE
JITTER = 0.2
THROTTLE_STATUSES = frozenset({429, 503})


class Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    RETRY = "retry"
    FAILED = "failed"  # the schedule ran out
    GONE = "gone"  # 410: disable the subscription, cancel its pending deliveries


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    delay: float | None = None  # seconds until the next attempt when outcome is RETRY


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class RetryPolicy:
    """Turns the result of attempt number *n* (1-based) into a decision."""

    def __init__(
        self,
        schedule: Sequence[float] = DEFAULT_SCHEDULE,
        scale: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        if not schedule:
            raise ValueError("the retry schedule needs at least one delay")
        if scale < 0:
            raise ValueError("the retry scale must not be negative")
        self.schedule = tuple(schedule)
        self.scale = scale
        self._rng = rng or random.Random()

    def scheduled_delay(self, attempts_made: int) -> float | None:
        """The jittered delay before the next attempt after *attempts_made* failures, None when exhausted."""
        if attempts_made >= len(self.schedule):
            return None
        base = self.schedule[attempts_made] * self.scale
        return base * self._rng.uniform(1 - JITTER, 1 + JITTER)

    def decide(
        self,
        attempts_made: int,
        status_code: int | None,
        retry_after: str | None = None,
        now: datetime | None = None,
    ) -> Decision:
        """The decision after attempt *attempts_made* answered *status_code* (None: no HTTP answer)."""
        if status_code is not None and 200 <= status_code < 300:
            return Decision(Outcome.SUCCEEDED)
        if status_code == 410:
            return Decision(Outcome.GONE)
        delay = self.scheduled_delay(attempts_made)
        if delay is None:
            return Decision(Outcome.FAILED)
        if status_code in THROTTLE_STATUSES:
            asked = parse_retry_after(retry_after, now or datetime.now(UTC))
            if asked is not None:
                ceiling = max(self.schedule) * self.scale
                delay = min(max(asked, delay), max(ceiling, delay))
        return Decision(Outcome.RETRY, delay)
