"""The outbox as the sender worker works it: claim what is due, then record what Telegram answered.

A claim is a lease (`claimed_until`), not a lock held across the network: a sender that dies
mid-batch leaves rows whose lease runs out, and the next claim takes them again. What was sent is
recorded right after each send (the card's message id, the delivery's), so a restart resends
nothing already recorded; the only window left is between Telegram's answer and that write.

A claim takes at most one delivery per chat, and none of a chat that another sender holds a lease
on: the deliveries of one chat edit the same card, and two senders editing it at once would post
two cards (and Telegram lets a chat get about one message a second anyway). Claims therefore take
turns: on PostgreSQL behind an advisory lock held to the commit (row locks alone would let two
claims take two rows of one chat), on SQLite behind its one writer. A claim reads the chats' cards
too: while the lease holds, nobody else changes them.

The outcomes are written as a group commit (`services.batching`): a thousand deliveries a second
are a few transactions a second, not two thousand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Integer, bindparam, exists, func, select, text, update
from sqlalchemy.orm import aliased

from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.kernel.rules import Checkpoint
from services.notices.cards import Card, NoticeEvent, card_key, timeline_from, timeline_json
from services.notices.tables import Delivery, DeliveryStatus, Event, StatusCard
from services.storage.database import Database
from services.storage.models import Account

CLAIM_LOCK = 0x6E6F74696365  # the PostgreSQL advisory lock ("notice") a claim holds to its commit
LEASE = timedelta(seconds=120)  # far longer than a batch takes, even waiting out the budget
FIRST_RETRY_SECONDS = 2.0
LONGEST_RETRY_SECONDS = 600.0


@dataclass(frozen=True)
class DueNotice:
    delivery_id: int
    account_id: int  # the private chat's id
    language: str | None
    ring: bool
    attempts: int
    event: NoticeEvent
    card: Card  # the chat's card of this crossing as stored when claimed (empty and unposted at first)


def retry_delay(attempts: int) -> float:
    """Exponential backoff after the `attempts`-th failure: 2 s, 4 s, 8 s... at most ten minutes."""
    return min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))


class NoticeOutbox:
    def __init__(self, db: Database, clock: Clock, checkpoints: dict[str, Checkpoint], retry_limit: int,
                 lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.checkpoints = checkpoints
        self.retry_limit = retry_limit
        self.lease = lease
        self._writes: Batcher[tuple[str, dict], None] = Batcher(self._write)

    async def claim(self, limit: int = 50) -> list[DueNotice]:
        now = self.clock.now()
        other = aliased(Delivery)
        leased_chat = exists().where(
            other.account_id == Delivery.account_id, other.status == DeliveryStatus.QUEUED.value,
            other.claimed_until.is_not(None), other.claimed_until >= now,
        )
        async with self.db.transaction() as session:
            if not self.db.is_sqlite:
                await session.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))
            rows = (await session.execute(
                select(Delivery.id, Delivery.account_id)
                .where(Delivery.status == DeliveryStatus.QUEUED.value, Delivery.next_attempt_at <= now,
                       (Delivery.claimed_until.is_(None)) | (Delivery.claimed_until < now), ~leased_chat)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit * 4)
            )).all()
            chosen: dict[int, int] = {}
            for delivery_id, account_id in rows:
                if len(chosen) < limit:
                    chosen.setdefault(account_id, delivery_id)
            if not chosen:
                return []
            ids = sorted(chosen.values())
            await session.execute(update(Delivery).where(self.db.among(Delivery.id, ids))
                                  .values(claimed_until=now + self.lease).execution_options(synchronize_session=False))
            found = (await session.execute(
                select(Delivery.id, Delivery.account_id, Delivery.ring, Delivery.attempts, Account.language,
                       Event.id, Event.type, Event.checkpoint, Event.occurred_at, Event.plate, Event.booking_ref,
                       Event.details)
                .join(Event, Event.id == Delivery.event_id).join(Account, Account.id == Delivery.account_id)
                .where(self.db.among(Delivery.id, ids)).order_by(Delivery.id)
            )).all()
            due = [(row[:5], _event(*row[5:])) for row in found]
            keys = {(row[1], self._key(event)) for row, event in due}
            cards = {(account_id, key): (timeline, message_id) for account_id, key, timeline, message_id in
                     await session.execute(
                         select(StatusCard.account_id, StatusCard.key, StatusCard.timeline, StatusCard.message_id)
                         .where(self.db.among(StatusCard.account_id, sorted({a for a, _ in keys})),
                                self.db.among(StatusCard.key, sorted({k for _, k in keys}))))}
        return [DueNotice(delivery_id, account_id, language, ring, attempts, event,
                          self._card(account_id, event, cards))
                for (delivery_id, account_id, ring, attempts, language), event in due]

    def _key(self, event: NoticeEvent) -> str:
        return card_key(event, self.checkpoints.get(event.checkpoint))

    def _card(self, account_id: int, event: NoticeEvent, cards: dict[tuple[int, str], tuple[str, int | None]]) -> Card:
        key = self._key(event)
        timeline, message_id = cards.get((account_id, key), (None, None))
        return Card(key, event.plate, event.booking_ref, event.checkpoint, timeline_from(timeline), message_id)

    async def card_shown(self, account_id: int, card: Card, message_id: int) -> None:
        """The card's message (new or edited) now shows `card`."""
        await self._writes(("card", {"account_id": account_id, "key": card.key, "message_id": message_id,
                                     "timeline": timeline_json(card), "updated_at": self.clock.now()}))

    async def sent(self, delivery_id: int, message_id: int) -> None:
        await self._writes(("sent", {"b_id": delivery_id, "message_id": message_id, "sent_at": self.clock.now()}))

    async def undeliverable(self, delivery_id: int, error: str, attempts: int | None = None) -> None:
        """The chat cannot be reached (it blocked the bot): the border system falls back to SMS."""
        await self._writes(("undeliverable", {"b_id": delivery_id, "error": error[:500], "b_attempts": attempts}))

    async def retry_later(self, delivery_id: int, seconds: float, error: str, attempts: int | None = None) -> None:
        """Telegram said when to come back (429): no attempt is spent, nothing was wrong."""
        await self._writes(("retry", {"b_id": delivery_id, "error": error[:500], "b_attempts": attempts,
                                      "next_attempt_at": self.clock.now() + timedelta(seconds=seconds)}))

    async def failed(self, delivery_id: int, attempts_before: int, error: str) -> bool:
        """A failure that may pass (5xx, a timeout, the network): tried again later with backoff,
        or given up as undeliverable after `retry_limit` attempts. True while it will be retried."""
        attempts = attempts_before + 1
        if attempts >= self.retry_limit:
            await self.undeliverable(delivery_id, error, attempts)
            return False
        await self.retry_later(delivery_id, retry_delay(attempts), error, attempts)
        return True

    async def release(self, delivery_ids: list[int]) -> None:
        """Claimed deliveries this sender will not try after all (it is stopping): due again at once."""
        for delivery_id in delivery_ids:
            await self._writes(("release", {"b_id": delivery_id}))

    async def _write(self, writes: list[tuple[str, dict]]) -> list[None]:
        """The outcomes recorded meanwhile, in one transaction: one statement of each kind for all
        of its rows. Each outcome ends its delivery's lease; a delivery sent already stays sent."""
        by_kind: dict[str, list[dict]] = {}
        for kind, values in writes:
            by_kind.setdefault(kind, []).append(values)
        async with self.db.transaction() as session:
            for kind, rows in by_kind.items():
                await session.execute(self._statement(kind), rows)
        return [None] * len(writes)

    def _statement(self, kind: str):
        if kind == "card":
            upsert = self.db.insert(StatusCard.__table__)
            return upsert.on_conflict_do_update(index_elements=["account_id", "key"], set_={
                "message_id": upsert.excluded.message_id, "timeline": upsert.excluded.timeline,
                "updated_at": upsert.excluded.updated_at})
        table = Delivery.__table__
        outcome = update(table).where(table.c.id == bindparam("b_id"),
                                      table.c.status == DeliveryStatus.QUEUED.value).values(claimed_until=None)
        attempts = func.coalesce(bindparam("b_attempts", type_=Integer), table.c.attempts)
        if kind == "sent":
            return outcome.values(status=DeliveryStatus.SENT.value, error=None)
        if kind == "undeliverable":
            return outcome.values(status=DeliveryStatus.UNDELIVERABLE.value, attempts=attempts)
        if kind == "retry":
            return outcome.values(attempts=attempts)
        return outcome  # release


def _event(event_id: int, kind: str, checkpoint: str, occurred_at, plate: str | None, booking_ref: str | None,
           details: str | None) -> NoticeEvent:
    found = json.loads(details or "{}")
    return NoticeEvent(event_id, kind, checkpoint, occurred_at, plate, booking_ref, found if isinstance(found, dict) else {})
