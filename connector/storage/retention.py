"""Retention: deleting old events once none of their deliveries is pending."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from connector.storage.deliveries import PENDING
from connector.storage.models import Delivery, DeliveryAttempt, Event


def purge(session: Session, older_than: datetime, batch: int = 500) -> int:
    """Delete up to *batch* events created before *older_than* with no pending delivery.

    Their deliveries and attempts go with them (foreign keys cascade).
    """
    pending = exists().where(Delivery.event_id == Event.id, Delivery.status == PENDING)
    victims = list(session.scalars(select(Event.id).where(Event.created_at < older_than, ~pending).limit(batch)))
    if not victims:
        return 0
    attempts = select(Delivery.id).where(Delivery.event_id.in_(victims))
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(attempts)))
    session.execute(delete(Delivery).where(Delivery.event_id.in_(victims)))
    session.execute(delete(Event).where(Event.id.in_(victims)))
    return len(victims)
