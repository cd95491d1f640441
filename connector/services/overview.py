"""The operator's overview of one tenant: health, the queue, subscriptions in trouble, recent traffic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from connector.services.principal import Principal
from connector.services.runtime import Runtime
from connector.storage import stats, subscriptions
from connector.storage.models import Subscription, utcnow
from connector.storage.stats import QueueStats

TRAFFIC_WINDOW = timedelta(days=1)
# A due delivery waiting longer than this means no worker is taking deliveries (or too few are).
BEHIND_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class Overview:
    database: str  # the dialect: sqlite or postgresql (it answered: the overview was read from it)
    in_process_worker: bool
    queue: QueueStats
    retrying: int
    troubled: list[Subscription]
    traffic: list[tuple[str, int]]  # events per type since traffic_since, most frequent first
    traffic_since: datetime

    @property
    def behind(self) -> bool:
        """Due deliveries have waited too long: is a worker running?"""
        return self.queue.oldest_due_age_seconds > BEHIND_AFTER_SECONDS


def overview(runtime: Runtime, session: Session, principal: Principal, now: datetime | None = None) -> Overview:
    """The overview of the caller's tenant (for an admin key, the tenant it works in)."""
    now = now or utcnow()
    tenant_id = principal.tenant_id
    since = now - TRAFFIC_WINDOW
    return Overview(
        database=runtime.database.dialect,
        in_process_worker=runtime.worker is not None,
        queue=stats.queue_stats(session, now, tenant_id),
        retrying=stats.retrying_count(session, tenant_id),
        troubled=subscriptions.troubled_subscriptions(session, tenant_id),
        traffic=stats.events_per_type(session, tenant_id, since),
        traffic_since=since,
    )
