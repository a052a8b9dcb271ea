"""The one outbox: what the bot says on its own is written as rows in the transaction that decides
it, then claimed, sent and settled by one sender (`bot.outbox`).

A claim is a lease (`claimed_until`), not a lock held across the network: a sender that dies leaves
its rows to run out, and the next claim takes them again. A claim takes only the first waiting row
of each stream, and none of a stream another sender holds a lease in: a chat's messages (and each
side of a support ticket) go out one at a time and in order, so two senders never edit one status
card at once, and an agent never reads a driver's second message before the first. Claims take
turns: on PostgreSQL behind an advisory lock held to the commit (row locks alone would let two
claims take two rows of one stream), on SQLite behind its one writer.

What Telegram answered is recorded as a group commit (`services.batching`): a thousand rows a
second settle in a few transactions, not a thousand.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, bindparam, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import aliased

from services.kernel.batching import Batcher
from services.kernel.clock import Clock
from services.outbox.tables import OutboxRow, PostStatus
from services.storage.database import Database
from services.storage.models import Account, UTCDateTime

NUDGE_SECONDS = 0.05  # after an add, by when its transaction has most likely committed
CLAIM_LOCK = 0x6F7574626F78  # the PostgreSQL advisory lock ("outbox") a claim holds to its commit
LEASE = timedelta(seconds=120)  # far longer than a delivery takes, even waiting out the budget
MAX_ERROR = 500


def chat_stream(chat_id: int) -> str:
    return f"chat:{chat_id}"


def ticket_stream(ticket_id: int, side: str) -> str:
    return f"ticket:{ticket_id}:{side}"


@dataclass(frozen=True, slots=True)
class Post:
    """A row to add: what to tell (`kind`, `payload`), whom (`chat_id`; None: the agents' group),
    in which stream and where in it (`seq`, then the row's id)."""

    kind: str
    chat_id: int | None
    stream: str
    account_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    event_id: int | None = None

    @classmethod
    def to_chat(cls, kind: str, chat_id: int, payload: dict[str, Any] | None = None, **more: Any) -> Post:
        """A message to a driver's private chat, in that chat's stream."""
        return cls(kind, chat_id, chat_stream(chat_id), more.pop("account_id", chat_id), payload or {}, **more)


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed row, with its reader's language."""

    id: int
    kind: str
    stream: str
    chat_id: int | None
    account_id: int | None
    event_id: int | None
    payload: dict[str, Any]
    attempts: int
    message_id: int | None  # sent already (an earlier try that failed after it)
    language: str | None


# What became of a row: each verdict ends its lease.
@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int | None  # the message that tells the reader


@dataclass(frozen=True, slots=True)
class Settled:
    """Nothing (more) to send: done before, gone, or no longer true."""

    reason: str


@dataclass(frozen=True, slots=True)
class Retry:
    seconds: float
    error: str
    attempts: int  # the row's attempts after this one (unchanged when Telegram said when: a 429)


@dataclass(frozen=True, slots=True)
class Undeliverable:
    """The chat cannot be reached (it blocked the bot)."""

    error: str
    attempts: int | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """Refused for what it says, or given up after its retries: no retry would help."""

    error: str
    attempts: int | None = None


Verdict = Sent | Settled | Retry | Undeliverable | Failed


@dataclass(frozen=True)
class RetryPolicy:
    """Whether and when a row that failed is tried again: the backoff after the n-th failure, and
    how many failures end it."""

    retry_limit: int = 8
    first_delay: float = 2.0
    longest_delay: float = 600.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failure: 2, 4, 8... at most ten minutes."""
        return min(self.longest_delay, self.first_delay * 2 ** max(0, attempts - 1))

    def failed(self, due: Due, error: str, *, give_up: bool = True, unreachable: bool = False) -> Verdict:
        """A failure that may pass (5xx, a timeout, the network): tried again after the backoff; with
        `give_up`, ended after `retry_limit` attempts (undeliverable when the chat is what failed)."""
        attempts = due.attempts + 1
        if give_up and attempts >= self.retry_limit:
            return Undeliverable(error, attempts) if unreachable else Failed(error, attempts)
        return Retry(self.delay(attempts), error, attempts)


class Outbox:
    def __init__(self, db: Database, clock: Clock, lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.lease = lease
        self._writes: Batcher[tuple[str, Any], None] = Batcher(self._write)
        self._listeners: list[Callable[[], None]] = []

    def listen(self, wake: Callable[[], None]) -> None:
        """`wake` is called shortly after rows are added in this process (a sender looks at once,
        not at its next round)."""
        self._listeners.append(wake)

    def _nudge(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for wake in self._listeners:
            loop.call_later(NUDGE_SECONDS, wake)

    # --- writing rows ---------------------------------------------------------------------------

    def rows(self, posts: Iterable[Post], now: datetime) -> list[dict[str, Any]]:
        return [{"kind": p.kind, "stream": p.stream, "seq": p.seq, "chat_id": p.chat_id, "account_id": p.account_id,
                 "event_id": p.event_id, "payload": json.dumps(p.payload, ensure_ascii=False, sort_keys=True),
                 "status": PostStatus.QUEUED.value, "attempts": 0, "next_attempt_at": now, "created_at": now}
                for p in posts]

    async def add(self, session, posts: Iterable[Post], now: datetime | None = None) -> int:
        """The posts, queued in the caller's transaction: they are sent if and only if it commits."""
        rows = self.rows(posts, now or self.clock.now())
        if rows:
            await session.execute(insert(OutboxRow), rows)
            self._nudge()
        return len(rows)

    async def post(self, posts: Iterable[Post]) -> int:
        """The posts, queued in a transaction of their own."""
        async with self.db.transaction() as session:
            return await self.add(session, posts)

    # --- claiming -------------------------------------------------------------------------------

    async def claim(self, limit: int, *, to_group: bool, skip: Collection[int] = (),
                    skip_kinds: Collection[str] = (), mine: Collection[int] = ()) -> list[Due]:
        """Up to `limit` due rows, each the first of its stream, leased to the caller: rows for the
        agents' group (`to_group`) or for private chats. `skip`: accounts whose rows of `skip_kinds`
        wait (a driver whose updates are still being handled: an earlier message of theirs may not
        be stored yet). `mine`: rows the caller has under way, never claimed twice."""
        if limit <= 0:
            return []
        now = self.clock.now()
        row, earlier = OutboxRow, aliased(OutboxRow)
        waiting = PostStatus.QUEUED.value
        behind = exists().where(
            earlier.stream == row.stream, earlier.status == waiting, earlier.id != row.id,
            or_(earlier.seq < row.seq, and_(earlier.seq == row.seq, earlier.id < row.id), earlier.claimed_until >= now))
        due = (select(row.id)
               .where(row.status == waiting, row.next_attempt_at <= now,
                      or_(row.claimed_until.is_(None), row.claimed_until < now), ~behind,
                      row.chat_id.is_(None) if to_group else row.chat_id.is_not(None))
               .order_by(row.next_attempt_at, row.id).limit(limit))
        if mine:
            due = due.where(~self.db.among(row.id, sorted(mine)))
        if skip and skip_kinds:
            due = due.where(or_(row.kind.not_in(list(skip_kinds)), row.account_id.is_(None),
                                ~self.db.among(row.account_id, sorted(skip))))
        async with self.db.transaction() as session:
            if not self.db.is_sqlite:
                await session.execute(text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK})"))
            ids = list(await session.scalars(due))
            if not ids:
                return []
            await session.execute(update(row).where(self.db.among(row.id, ids))
                                  .values(claimed_until=now + self.lease).execution_options(synchronize_session=False))
            found = (await session.execute(
                select(row.id, row.kind, row.stream, row.chat_id, row.account_id, row.event_id, row.payload,
                       row.attempts, row.message_id, Account.language)
                .outerjoin(Account, Account.id == row.account_id)
                .where(self.db.among(row.id, ids)).order_by(row.id))).all()
        return [Due(id_, kind, stream, chat_id, account_id, event_id, _payload(payload), attempts, message_id,
                    language)
                for id_, kind, stream, chat_id, account_id, event_id, payload, attempts, message_id, language in found]

    async def renew(self, row_ids: Collection[int]) -> None:
        """The leases of rows still under way, renewed: a live sender keeps what it claimed however
        long Telegram's limits keep it waiting, and a dead one's runs out a lease after it died."""
        if row_ids:
            async with self.db.transaction() as session:
                await session.execute(update(OutboxRow)
                                      .where(self.db.among(OutboxRow.id, sorted(row_ids)),
                                             OutboxRow.status == PostStatus.QUEUED.value)
                                      .values(claimed_until=self.clock.now() + self.lease)
                                      .execution_options(synchronize_session=False))

    # --- what Telegram answered -----------------------------------------------------------------

    async def progress(self, row_id: int, message_id: int) -> None:
        """The message that tells the reader is sent: written at once, before any later step of the
        delivery, so a row tried again does not send it twice. The row stays leased."""
        await self._writes(("progress", {"b_id": row_id, "message_id": message_id, "sent_at": self.clock.now()}))

    async def settle(self, due: Due, verdict: Verdict, follow_ups: Iterable[Post] = ()) -> None:
        """The row's outcome, and the posts it leads to, in one group commit."""
        now = self.clock.now()
        row = {"b_id": due.id}
        if isinstance(verdict, Sent):
            write = ("sent", {**row, "b_message_id": verdict.message_id, "b_sent_at": now})
        elif isinstance(verdict, Settled):
            write = ("settled", {**row, "error": verdict.reason[:MAX_ERROR]})
        elif isinstance(verdict, Retry):
            write = ("retry", {**row, "error": verdict.error[:MAX_ERROR], "b_attempts": verdict.attempts,
                               "next_attempt_at": now + timedelta(seconds=verdict.seconds)})
        elif isinstance(verdict, Undeliverable):
            write = ("undeliverable", {**row, "error": verdict.error[:MAX_ERROR], "b_attempts": verdict.attempts})
        else:
            write = ("failed", {**row, "error": verdict.error[:MAX_ERROR], "b_attempts": verdict.attempts})
        posts = self.rows(follow_ups, now)
        await self._writes(("outcome", (write, posts)))

    async def release(self, row_ids: list[int]) -> None:
        """Claimed rows this sender will not try after all (it is stopping): due again at once."""
        for row_id in row_ids:
            await self._writes(("release", {"b_id": row_id}))

    async def _write(self, writes: list[tuple[str, Any]]) -> list[None]:
        """What was recorded meanwhile, in one transaction: one statement of each kind for all of its
        rows. An outcome applies only to a row still queued: one settled already stays as it is."""
        by_kind: dict[str, list[dict]] = {}
        added: list[dict] = []
        for kind, values in writes:
            if kind == "outcome":
                (kind, values), posts = values
                added.extend(posts)
            by_kind.setdefault(kind, []).append(values)
        async with self.db.transaction() as session:
            for kind, rows in by_kind.items():
                await session.execute(self._statement(kind), rows)
            if added:
                await session.execute(insert(OutboxRow), added)
        return [None] * len(writes)

    def _statement(self, kind: str):
        table = OutboxRow.__table__
        where = update(table).where(table.c.id == bindparam("b_id"), table.c.status == PostStatus.QUEUED.value)
        if kind == "progress":
            return where
        ended = where.values(claimed_until=None)
        attempts = func.coalesce(bindparam("b_attempts", type_=Integer), table.c.attempts)
        if kind == "sent":
            sent = bindparam("b_message_id", type_=BigInteger)
            return ended.values(status=PostStatus.SENT.value, error=None,
                                message_id=func.coalesce(sent, table.c.message_id),
                                sent_at=func.coalesce(table.c.sent_at, bindparam("b_sent_at", type_=UTCDateTime)))
        if kind == "settled":
            return ended.values(status=PostStatus.SETTLED.value)
        if kind == "undeliverable":
            return ended.values(status=PostStatus.UNDELIVERABLE.value, attempts=attempts)
        if kind == "failed":
            return ended.values(status=PostStatus.FAILED.value, attempts=attempts)
        if kind == "retry":
            return ended.values(attempts=attempts)
        return ended  # release

    # --- what an operator (and a test) reads ----------------------------------------------------

    async def waiting(self, kinds: Collection[str] | None = None, *, due_now: bool = False,
                      event_id: int | None = None) -> int:
        """Rows still to send (`due_now`: those a sender would take now; `event_id`: one event's)."""
        query = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == PostStatus.QUEUED.value)
        if kinds is not None:
            query = query.where(OutboxRow.kind.in_(list(kinds)))
        if due_now:
            query = query.where(OutboxRow.next_attempt_at <= self.clock.now())
        if event_id is not None:
            query = query.where(OutboxRow.event_id == event_id)
        async with self.db.reading() as session:
            return await session.scalar(query) or 0

    async def next_due(self) -> datetime | None:
        """When the earliest waiting row is due (the demo and the tests wait for it)."""
        async with self.db.reading() as session:
            return await session.scalar(select(func.min(OutboxRow.next_attempt_at))
                                        .where(OutboxRow.status == PostStatus.QUEUED.value))


def _payload(text_: str | None) -> dict[str, Any]:
    found = json.loads(text_ or "{}")
    return found if isinstance(found, dict) else {}
