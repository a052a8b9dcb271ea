"""Events and their delivery rows written straight into the outbox, as the border API writes them
(`services.notices.events`), so that the sender is tested on its own."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

from sqlalchemy import func, select

from services.notices.tables import Delivery, DeliveryStatus, Event
from services.notices.types import rings
from services.storage.database import Database

_event_ids = itertools.count(1)


async def post_event(db: Database, kind: str, account_ids: list[int], *, at: datetime, plate: str = "123ABC02",
                     ref: str | None = "K7Q2M", checkpoint: str = "khorgos", details: dict | None = None) -> int:
    """One event and a queued delivery of it to each account, due at once; the event's row id."""
    async with db.transaction() as session:
        event = Event(event_id=f"test-{next(_event_ids)}-{at.timestamp()}", type=kind, plate=plate, booking_ref=ref,
                      checkpoint=checkpoint, occurred_at=at, details=json.dumps(details or {}), received_at=at,
                      answer="{}")
        session.add(event)
        await session.flush()
        session.add_all(Delivery(event_id=event.id, account_id=a, status=DeliveryStatus.QUEUED.value, ring=rings(kind),
                                 attempts=0, next_attempt_at=at) for a in account_ids)
    return event.id


async def deliveries(db: Database) -> list[Delivery]:
    async with db.reading() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def queued(db: Database) -> int:
    async with db.reading() as session:
        return await session.scalar(select(func.count()).select_from(Delivery)
                                    .where(Delivery.status == DeliveryStatus.QUEUED.value))
