"""Events and their notices written straight into the outbox, as the border API writes them
(`services.notices.events`), so that the sender is tested on its own."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

from sqlalchemy import func, select

from services.kernel.clock import FrozenClock
from services.notices.tables import Event
from services.outbox.kinds import Kind
from services.outbox.outbox import Outbox, Post
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.database import Database

_event_ids = itertools.count(1)


async def post_event(db: Database, kind: str, account_ids: list[int], *, at: datetime, plate: str = "123ABC02",
                     ref: str | None = "K7Q2M", checkpoint: str = "khorgos", details: dict | None = None) -> int:
    """One event and a queued notice of it to each account, due at once; the event's row id."""
    async with db.transaction() as session:
        event = Event(event_id=f"test-{next(_event_ids)}-{at.timestamp()}", type=kind, plate=plate, booking_ref=ref,
                      checkpoint=checkpoint, occurred_at=at, details=json.dumps(details or {}), received_at=at,
                      answer="{}")
        session.add(event)
        await session.flush()
        await Outbox(db, FrozenClock(at)).add(session, [Post.to_chat(Kind.NOTICE, a, event_id=event.id)
                                                        for a in account_ids], at)
    return event.id


async def deliveries(db: Database) -> list[OutboxRow]:
    """The notices' rows, in the order they were written."""
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxRow).where(OutboxRow.kind == Kind.NOTICE)
                                          .order_by(OutboxRow.id)))


async def queued(db: Database) -> int:
    async with db.reading() as session:
        return await session.scalar(select(func.count()).select_from(OutboxRow)
                                    .where(OutboxRow.status == PostStatus.QUEUED.value))
