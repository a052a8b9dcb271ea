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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.batching import Batcher
from services.clock import Clock
from services.notices.cards import Card, NoticeEvent, card_key, timeline_from, timeline_json
from services.notices.tables import Delivery, DeliveryStatus, Event, StatusCard
from services.rules import Checkpoint
from services.storage import Account, Database

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
        self._writes: Batcher[Callable[[AsyncSession], Awaitable[object]], None] = Batcher(self._write)

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
                select(Delivery, Event, Account.language)
                .join(Event, Event.id == Delivery.event_id).join(Account, Account.id == Delivery.account_id)
                .where(self.db.among(Delivery.id, ids)).order_by(Delivery.id)
            )).all()
            events = [(d, _event(e), language) for d, e, language in found]
            keys = {(d.account_id, card_key(event, self.checkpoints.get(event.checkpoint))) for d, event, _ in events}
            cards = {(row.account_id, row.key): row for row in await session.scalars(
                select(StatusCard).where(self.db.among(StatusCard.account_id, sorted({a for a, _ in keys})),
                                         self.db.among(StatusCard.key, sorted({k for _, k in keys}))))}
        return [DueNotice(d.id, d.account_id, language, d.ring, d.attempts, event, self._card(d.account_id, event, cards))
                for d, event, language in events]

    def _card(self, account_id: int, event: NoticeEvent, cards: dict[tuple[int, str], StatusCard]) -> Card:
        key = card_key(event, self.checkpoints.get(event.checkpoint))
        row = cards.get((account_id, key))
        if row is None:
            return Card(key, event.plate, event.booking_ref, event.checkpoint, ())
        return Card(key, event.plate, event.booking_ref, event.checkpoint, timeline_from(row.timeline), row.message_id)

    async def card_shown(self, account_id: int, card: Card, message_id: int) -> None:
        """The card's message (new or edited) now shows `card`."""
        values = {"message_id": message_id, "timeline": timeline_json(card), "updated_at": self.clock.now()}
        await self._writes(lambda session: session.execute(
            self.db.insert(StatusCard).values(account_id=account_id, key=card.key, **values)
            .on_conflict_do_update(index_elements=["account_id", "key"], set_=values)
        ))

    async def sent(self, delivery_id: int, message_id: int) -> None:
        await self._finish(delivery_id, status=DeliveryStatus.SENT.value, message_id=message_id,
                           sent_at=self.clock.now(), error=None)

    async def undeliverable(self, delivery_id: int, error: str) -> None:
        """The chat cannot be reached (it blocked the bot): the border system falls back to SMS."""
        await self._finish(delivery_id, status=DeliveryStatus.UNDELIVERABLE.value, error=error[:500])

    async def retry_later(self, delivery_id: int, seconds: float, error: str) -> None:
        """Telegram said when to come back (429): no attempt is spent, nothing was wrong."""
        await self._finish(delivery_id, next_attempt_at=self.clock.now() + timedelta(seconds=seconds),
                           error=error[:500])

    async def failed(self, delivery_id: int, attempts_before: int, error: str) -> bool:
        """A failure that may pass (5xx, a timeout, the network): tried again later with backoff,
        or given up as undeliverable after `retry_limit` attempts. True while it will be retried."""
        attempts = attempts_before + 1
        if attempts >= self.retry_limit:
            await self._finish(delivery_id, attempts=attempts, status=DeliveryStatus.UNDELIVERABLE.value,
                               error=error[:500])
            return False
        await self._finish(delivery_id, attempts=attempts, error=error[:500],
                           next_attempt_at=self.clock.now() + timedelta(seconds=retry_delay(attempts)))
        return True

    async def _finish(self, delivery_id: int, **values) -> None:
        """Record an outcome and end the lease; a delivery sent already stays sent."""
        await self._writes(lambda session: session.execute(
            update(Delivery)
            .where(and_(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.QUEUED.value))
            .values(claimed_until=None, **values).execution_options(synchronize_session=False)
        ))

    async def release(self, delivery_ids: list[int]) -> None:
        """Claimed deliveries this sender will not try after all (it is stopping): due again at once."""
        if delivery_ids:
            await self._writes(lambda session: session.execute(
                update(Delivery).where(self.db.among(Delivery.id, delivery_ids),
                                       Delivery.status == DeliveryStatus.QUEUED.value)
                .values(claimed_until=None).execution_options(synchronize_session=False)
            ))

    async def _write(self, writes: list[Callable[[AsyncSession], Awaitable[object]]]) -> list[None]:
        """The outcomes recorded meanwhile, in one transaction, in the order they came."""
        async with self.db.transaction() as session:
            for write in writes:
                await write(session)
        return [None] * len(writes)


def _event(row: Event) -> NoticeEvent:
    details = json.loads(row.details or "{}")
    return NoticeEvent(row.id, row.type, row.checkpoint, row.occurred_at, row.plate, row.booking_ref,
                       details if isinstance(details, dict) else {})
