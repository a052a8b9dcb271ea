"""A notice as its renderer needs it: the event, and the chat's status card of that crossing.

The outbox (`services.outbox`) holds one row per event and chat; its stream is the chat, so while a
sender holds a row's lease nobody else changes that chat's cards, and the card read with the row is
the card to edit. The card's message and time line are written as soon as Telegram has them (a group
commit, as the outbox's outcomes), so a row tried again edits that message instead of posting a
second card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.notices.cards import Card, NoticeEvent, card_key, timeline_from, timeline_json
from services.notices.tables import Event, StatusCard
from services.notices.types import rings
from services.kernel.rules import Checkpoint
from services.storage.database import Database


@dataclass(frozen=True)
class DueNotice:
    event: NoticeEvent
    card: Card  # the chat's card of this crossing as stored when claimed (empty and unposted at first)

    @property
    def rings(self) -> bool:
        return rings(self.event.type)


class NoticeDeliveries:
    def __init__(self, db: Database, clock: Clock, checkpoints: dict[str, Checkpoint]) -> None:
        self.db = db
        self.clock = clock
        self.checkpoints = checkpoints
        self._writes: Batcher[dict, None] = Batcher(self._write)

    async def load(self, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], DueNotice]:
        """Each (chat, event) with its event and card, in one read for all of them."""
        if not wanted:
            return {}
        async with self.db.reading() as session:
            events = {row[0]: _event(*row) for row in await session.execute(
                select(Event.id, Event.type, Event.checkpoint, Event.occurred_at, Event.plate, Event.booking_ref,
                       Event.details).where(self.db.among(Event.id, sorted({e for _, e in wanted}))))}
            keys = {(chat, self._key(events[event_id])) for chat, event_id in wanted if event_id in events}
            cards = {(account_id, key): (timeline, message_id) for account_id, key, timeline, message_id in
                     await session.execute(
                         select(StatusCard.account_id, StatusCard.key, StatusCard.timeline, StatusCard.message_id)
                         .where(self.db.among(StatusCard.account_id, sorted({a for a, _ in keys})),
                                self.db.among(StatusCard.key, sorted({k for _, k in keys}))))} if keys else {}
        found = {}
        for chat, event_id in wanted:
            event = events.get(event_id)
            if event is not None:
                key = self._key(event)
                timeline, message_id = cards.get((chat, key), (None, None))
                found[chat, event_id] = DueNotice(event, Card(key, event.plate, event.booking_ref, event.checkpoint,
                                                              timeline_from(timeline), message_id))
        return found

    def _key(self, event: NoticeEvent) -> str:
        return card_key(event, self.checkpoints.get(event.checkpoint))

    async def card_shown(self, account_id: int, card: Card, message_id: int) -> None:
        """The card's message (new or edited) now shows `card`."""
        await self._writes({"account_id": account_id, "key": card.key, "message_id": message_id,
                            "timeline": timeline_json(card), "updated_at": self.clock.now()})

    async def _write(self, rows: list[dict]) -> list[None]:
        async with self.db.transaction() as session:
            upsert = self.db.insert(StatusCard.__table__)
            await session.execute(upsert.on_conflict_do_update(index_elements=["account_id", "key"], set_={
                "message_id": upsert.excluded.message_id, "timeline": upsert.excluded.timeline,
                "updated_at": upsert.excluded.updated_at}), rows)
        return [None] * len(rows)


def _event(event_id: int, kind: str, checkpoint: str, occurred_at, plate: str | None, booking_ref: str | None,
           details: str | None) -> NoticeEvent:
    found = json.loads(details or "{}")
    return NoticeEvent(event_id, kind, checkpoint, occurred_at, plate, booking_ref,
                       found if isinstance(found, dict) else {})
