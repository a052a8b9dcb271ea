"""Support's messages as the sender works them: claim the next message of each ticket, then record
what Telegram answered.

Each side's messages of a ticket are copied one at a time and in the order they were written (by
their message ids on that side, which Telegram numbers in order, not by when a handler stored them):
a claim takes only the first message still to be copied of a ticket's driver, or of its agents, and
only when it is due (a message waiting out a failure holds back the ones after it, so an agent never
reads a driver's second message before the first). The claim is a lease (`claimed_until`), not a
lock held across the network: a sender that died leaves it to run out, and the next claim takes the
message again. While one sender holds a driver's message, nobody else copies that ticket's driver
messages, so only that sender opens its topic: first messages arriving at once cannot open two.

Claims take turns: on PostgreSQL behind an advisory lock held to the commit, on SQLite behind its
one writer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, exists, func, or_, select, text, true, update
from sqlalchemy.orm import aliased

from services.kernel.clock import Clock
from services.notices.sender import retry_delay
from services.storage.database import Database
from services.storage.models import Account
from services.support.tables import Author, Copy, SupportMessage, Ticket

CLAIM_LOCK = 0x737570706F7274  # the PostgreSQL advisory lock ("support") a claim holds to its commit
LEASE = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class DueCopy:
    """A message to copy to the other side, with what the copy needs."""

    id: int
    ticket_id: int
    account_id: int  # the driver's private chat
    author: Author
    kind: str
    driver_message_id: int | None
    topic_message_id: int | None
    thread_id: int | None  # the ticket's topic; None: still to be opened
    reply_to: int | None  # the copy answers this message of the other side
    attempts: int
    # An agent's first message in the ticket, at its first try: the driver is told an agent answers.
    first_answer: bool
    language: str | None
    first_name: str = field(repr=False)  # kept out of the log lines that name the item


class SupportOutbox:
    def __init__(self, db: Database, clock: Clock, retry_limit: int = 8, lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.retry_limit = retry_limit
        self.lease = lease

    async def claim(self, author: Author, limit: int, skip: Collection[int] = ()) -> list[DueCopy]:
        """Up to `limit` messages of `author` due to be copied, each the next of its ticket; none of
        the accounts in `skip` (a driver whose updates are still being handled)."""
        if limit <= 0:
            return []
        now = self.clock.now()
        earlier = aliased(SupportMessage)
        side = "driver_message_id" if author is Author.DRIVER else "topic_message_id"
        head = ~exists().where(earlier.ticket_id == SupportMessage.ticket_id, earlier.author == author.value,
                               earlier.copy == Copy.QUEUED.value,
                               getattr(earlier, side) < getattr(SupportMessage, side))
        # A driver's message stored late (a slow store in a burst) may come before one already
        # claimed: while that claim is opening the ticket's topic, it waits, or two claims would
        # open a topic each.
        none_under_way = ~exists().where(earlier.ticket_id == SupportMessage.ticket_id,
                                         earlier.author == author.value, earlier.copy == Copy.QUEUED.value,
                                         earlier.claimed_until >= now)
        topic_known = exists().where(Ticket.id == SupportMessage.ticket_id, Ticket.thread_id.is_not(None))
        no_second_opening = or_(topic_known, none_under_way) if author is Author.DRIVER else true()
        async with self.db.transaction() as session:
            if not self.db.is_sqlite:
                await session.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))
            due = (select(SupportMessage.id)
                   .where(SupportMessage.copy == Copy.QUEUED.value, SupportMessage.author == author.value, head,
                          no_second_opening,
                          or_(SupportMessage.next_attempt_at.is_(None), SupportMessage.next_attempt_at <= now),
                          or_(SupportMessage.claimed_until.is_(None), SupportMessage.claimed_until < now))
                   .order_by(SupportMessage.id).limit(limit))
            if skip:
                due = due.where(~exists().where(Ticket.id == SupportMessage.ticket_id,
                                                self.db.among(Ticket.account_id, sorted(skip))))
            ids = list(await session.scalars(due))
            if not ids:
                return []
            await session.execute(update(SupportMessage).where(self.db.among(SupportMessage.id, ids))
                                  .values(claimed_until=now + self.lease)
                                  .execution_options(synchronize_session=False))
            answered_before = exists().where(earlier.ticket_id == SupportMessage.ticket_id,
                                             earlier.author == Author.AGENT.value, earlier.id < SupportMessage.id)
            rows = (await session.execute(
                select(SupportMessage, Ticket.account_id, Ticket.thread_id, Account.language, Account.first_name,
                       answered_before)
                .join(Ticket, Ticket.id == SupportMessage.ticket_id).join(Account, Account.id == Ticket.account_id)
                .where(self.db.among(SupportMessage.id, ids)).order_by(SupportMessage.id))).all()
            due = []
            for message, account_id, thread_id, language, first_name, answered in rows:
                reply_to = await self._reply_target(session, message) if message.reply_to_id is not None else None
                due.append(DueCopy(message.id, message.ticket_id, account_id, Author(message.author), message.kind,
                                   message.driver_message_id, message.topic_message_id, thread_id, reply_to,
                                   message.attempts, (message.author == Author.AGENT.value and not answered
                                                      and message.next_attempt_at is None),
                                   language, first_name or ""))
        return due

    async def _reply_target(self, session, message: SupportMessage) -> int | None:
        """The other side's message that the copy answers: the side of the same ticket's message
        that `message` answers on its own side. Only within the ticket: a reply never leads elsewhere."""
        if message.author == Author.DRIVER.value:
            mine, theirs = SupportMessage.driver_message_id, SupportMessage.topic_message_id
        else:
            mine, theirs = SupportMessage.topic_message_id, SupportMessage.driver_message_id
        return await session.scalar(
            select(theirs).where(SupportMessage.ticket_id == message.ticket_id, mine == message.reply_to_id,
                                 theirs.is_not(None)).order_by(SupportMessage.id.desc()).limit(1))

    async def retry_later(self, message_id: int, seconds: float, attempts: int | None = None) -> None:
        """Not now: due again in `seconds` (Telegram said when, or a backoff)."""
        values: dict = {"claimed_until": None, "next_attempt_at": self.clock.now() + timedelta(seconds=seconds)}
        if attempts is not None:
            values["attempts"] = attempts
        await self._update(message_id, values)

    async def failed(self, message_id: int, attempts_before: int, *, give_up: bool = True) -> bool:
        """A failure that may pass (5xx, a timeout, a refusal the operator can mend): tried again
        with backoff; after `retry_limit` attempts given up when `give_up`. True while it will be retried."""
        attempts = attempts_before + 1
        if give_up and attempts >= self.retry_limit:
            await self._update(message_id, {"copy": Copy.FAILED.value, "claimed_until": None, "attempts": attempts,
                                            "copied_at": self.clock.now()})
            return False
        await self.retry_later(message_id, retry_delay(attempts), attempts)
        return True

    async def release(self, message_ids: list[int]) -> None:
        """Claimed messages this sender will not copy after all (it is stopping): due again at once."""
        if message_ids:
            async with self.db.transaction() as session:
                await session.execute(update(SupportMessage)
                                      .where(self.db.among(SupportMessage.id, message_ids),
                                             SupportMessage.copy == Copy.QUEUED.value)
                                      .values(claimed_until=None).execution_options(synchronize_session=False))

    async def _update(self, message_id: int, values: dict) -> None:
        async with self.db.transaction() as session:
            await session.execute(update(SupportMessage)
                                  .where(and_(SupportMessage.id == message_id,
                                              SupportMessage.copy == Copy.QUEUED.value))
                                  .values(**values).execution_options(synchronize_session=False))

    async def waiting(self) -> int:
        """Messages still to be copied (an operator's and a benchmark's figure)."""
        async with self.db.reading() as session:
            return await session.scalar(select(func.count()).select_from(SupportMessage)
                                        .where(SupportMessage.copy == Copy.QUEUED.value)) or 0
