"""One outgoing budget for everything the bot sends: Telegram's limits, kept before Telegram has to
answer 429.

Telegram lets one bot send about 30 messages a second in all, about one a second to one chat and
20 a minute to one group (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
A bot that only reacts to 429 loses seconds per refusal and, in a broadcast, gets refused again and
again; so every counted request first takes a token here. The buckets live in process memory, or in
Redis (one atomic script) so that every process sending as the bot spends one shared budget.

Not everything that waits is equal: a driver who tapped a button is looking at the screen
(priority 0), a driver called to the gate must hear it (1), a silent edit of a status card or a
countdown can wait (2). Within a process, lower priorities step back while a higher one waits
for the overall bucket; across processes, the last part of the overall bucket is a reserve only
the lower priority numbers may spend. A waiter's priority rises with the time it has waited, so
a steady stream of taps delays the silent edits but never starves them.

An answer to a driver's own tap spends its chat's bucket but does not wait for it: the driver
paces those answers, Telegram tolerates a short burst in a chat, and a rare 429 is waited out by
`RetryAfterMiddleware`; making every answer after the second within a second wait would slow
every quick conversation for nothing. The notices to that chat then wait until it has refilled.

While Redis is away (`services.kernel.redis_fallback`), each process spends buckets of its own memory at
a share of the limits (`Budget.shared`): several processes may each be falling back at once, and
together they must stay within what Telegram allows one bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from services.kernel.redis_fallback import RedisFallback

ANSWER, ACTION, SILENT = 0, 1, 2  # the priorities: a driver's own tap, a notice that rings, an edit
# The share of the overall bucket that each priority must leave to the ones above it. Only the
# answer to a driver's own tap may spend the bucket to its last token.
RESERVE_SHARE = {ANSWER: 0.0, ACTION: 0.2, SILENT: 0.4}
AGING_SECONDS = 20.0  # each this long a waiter has waited counts as one priority level higher
MAX_POLL_SECONDS = 0.25  # a waiter looks again at least this often (another process may spend)

# The priority of what the current task sends, so that it need not travel through every call: a
# handler answering a driver sends at the default; a sender sets its own around its sends.
priority: ContextVar[int] = ContextVar("outgoing_priority", default=ANSWER)


class Committed:
    """Set once a request of the task that holds it has gone to Telegram: from then on, stopping
    the task would lose what Telegram did (a message sent but not written down)."""

    def __init__(self) -> None:
        self.sent = False


committed: ContextVar[Committed | None] = ContextVar("outgoing_committed", default=None)


@contextlib.contextmanager
def sending_at(level: int) -> Iterator[None]:
    """The requests made within (and in the tasks started within) go at this priority."""
    token = priority.set(level)
    try:
        yield
    finally:
        priority.reset(token)


@dataclass(frozen=True)
class Budget:
    """Rates and bursts of the buckets. The bursts stay below what Telegram tolerates (it lets a
    bot that was quiet send a short burst), so that the jitter between taking a token here and the
    request reaching Telegram never tips it over."""

    per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    burst: float = 15.0  # half a second of the overall rate
    chat_burst: float = 2.0
    group_burst: float = 3.0

    @classmethod
    def of(cls, messages_per_second: float, per_chat_per_second: float, per_group_per_minute: float) -> Budget:
        return cls(messages_per_second, per_chat_per_second, per_group_per_minute,
                   burst=max(1.0, messages_per_second / 2), chat_burst=max(1.0, min(2.0, per_chat_per_second * 2)),
                   group_burst=max(1.0, min(3.0, per_group_per_minute / 6)))

    def shared(self, share: float) -> Budget:
        """This budget cut to `share` of every rate and burst: what one of several processes may
        spend on its own (a burst never below one token, or nothing could be sent)."""
        return Budget(self.per_second * share, self.per_chat_per_second * share, self.per_group_per_minute * share,
                      burst=max(1.0, self.burst * share), chat_burst=max(1.0, self.chat_burst * share),
                      group_burst=max(1.0, self.group_burst * share))

    def chat_rate(self, chat_id: int) -> tuple[float, float]:
        """(tokens per second, burst) of one chat's bucket: groups and channels have negative ids."""
        if chat_id < 0:
            return self.per_group_per_minute / 60.0, self.group_burst
        return self.per_chat_per_second, self.chat_burst

    def reserve(self, priority: int) -> float:
        """Tokens a priority must leave in the overall bucket; never so many that it cannot fill."""
        share = RESERVE_SHARE.get(priority, RESERVE_SHARE[SILENT])
        return min(self.burst * share, max(0.0, self.burst - 1.0))


@dataclass(frozen=True)
class Refusal:
    """How long until a token could be taken, and from which bucket (0.0: it is not the one)."""

    overall: float
    chat: float

    @property
    def wait(self) -> float:
        return max(self.overall, self.chat)


class Buckets(Protocol):
    async def take(self, chat_id: int | None, priority: int) -> Refusal | None:
        """Take one token of the overall bucket and of the chat's, or none and say how long to wait."""


@dataclass
class Bucket:
    tokens: float
    stamp: float

    def refill(self, rate: float, burst: float, now: float) -> None:
        self.tokens = min(burst, self.tokens + max(0.0, now - self.stamp) * rate)
        self.stamp = now


def seconds_short(bucket: Bucket, need: float, rate: float) -> float:
    return 0.0 if bucket.tokens >= need else (need - bucket.tokens) / rate


class MemoryBuckets:
    """The buckets of one process (no Redis): right for a single bot process."""

    def __init__(self, budget: Budget, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self.clock = clock
        self.overall: Bucket | None = None
        self.chats: dict[int, Bucket] = {}
        self._forget_at = 10_000

    async def take(self, chat_id: int | None, priority: int) -> Refusal | None:
        return self.take_now(chat_id, priority)

    def take_now(self, chat_id: int | None, priority: int) -> Refusal | None:
        now, budget = self.clock(), self.budget
        if self.overall is None:
            self.overall = Bucket(budget.burst, now)
        self.overall.refill(budget.per_second, budget.burst, now)
        overall_wait = seconds_short(self.overall, 1.0 + budget.reserve(priority), budget.per_second)
        chat_wait, chat = 0.0, None
        if chat_id is not None:
            rate, burst = budget.chat_rate(chat_id)
            chat = self.chats.get(chat_id) or self.chats.setdefault(chat_id, Bucket(burst, now))
            chat.refill(rate, burst, now)
            chat_wait = 0.0 if priority == ANSWER else seconds_short(chat, 1.0, rate)
        if overall_wait or chat_wait:
            return Refusal(overall_wait, chat_wait)
        self.overall.tokens -= 1.0
        if chat is not None:
            chat.tokens = max(-burst, chat.tokens - 1.0)
        if len(self.chats) > self._forget_at:
            self._forget_full(now)
            self._forget_at = max(10_000, 2 * len(self.chats))  # not again at every take
        return None

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled is the same as none: forget those, or memory grows per chat."""
        for chat_id in [c for c, b in self.chats.items() if b.tokens + (now - b.stamp) * self.budget.chat_rate(c)[0]
                        >= self.budget.chat_rate(c)[1]]:
            del self.chats[chat_id]


# KEYS: overall bucket, chat bucket (or "" for none). ARGV: rate, burst, reserve, chat rate, chat
# burst, 1 for an answer (which spends the chat's bucket without waiting for it). Returns {0, 0}
# when taken, else the waits in microseconds {overall, chat}. The time is the
# Redis server's, so processes on several machines share one clock.
TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local function level(key, rate, burst)
  local state = redis.call('HMGET', key, 'tokens', 'stamp')
  local tokens, stamp = tonumber(state[1]), tonumber(state[2])
  if tokens == nil then return burst end
  return math.min(burst, tokens + math.max(0, now - stamp) * rate)
end
local rate, burst, reserve = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local overall = level(KEYS[1], rate, burst)
local overall_wait = 0
if overall < 1 + reserve then overall_wait = (1 + reserve - overall) / rate end
local chat, chat_wait, crate, cburst = 0, 0, tonumber(ARGV[4]), tonumber(ARGV[5])
local answer = tonumber(ARGV[6]) == 1
if KEYS[2] ~= '' then
  chat = level(KEYS[2], crate, cburst)
  if chat < 1 and not answer then chat_wait = (1 - chat) / crate end
end
if overall_wait > 0 or chat_wait > 0 then
  return {math.ceil(overall_wait * 1e6), math.ceil(chat_wait * 1e6)}
end
redis.call('HSET', KEYS[1], 'tokens', overall - 1, 'stamp', now)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
if KEYS[2] ~= '' then
  redis.call('HSET', KEYS[2], 'tokens', math.max(-cburst, chat - 1), 'stamp', now)
  redis.call('EXPIRE', KEYS[2], math.ceil(2 * cburst / crate) + 1)
end
return {0, 0}
"""


class RedisBuckets:
    """The buckets in Redis: every process of the bot spends the one budget Telegram gives it.
    While Redis is away, buckets in this process's memory at `share` of the budget."""

    def __init__(self, redis, budget: Budget, prefix: str, *, fallback: RedisFallback | None = None,
                 share: float = 0.5, clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = redis
        self.budget = budget
        self.prefix = f"{prefix}:outgoing"
        self._script = redis.register_script(TAKE_SCRIPT)
        self.fallback = fallback or RedisFallback()
        self.alone = MemoryBuckets(budget.shared(share), clock)

    async def take(self, chat_id: int | None, priority: int) -> Refusal | None:
        return await self.fallback.call(lambda: self._take(chat_id, priority),
                                        lambda: self.alone.take_now(chat_id, priority))

    async def _take(self, chat_id: int | None, priority: int) -> Refusal | None:
        budget = self.budget
        rate, burst = budget.chat_rate(chat_id) if chat_id is not None else (1.0, 1.0)
        chat_key = f"{self.prefix}:chat:{chat_id}" if chat_id is not None else ""
        overall, chat = await self._script(
            keys=[f"{self.prefix}:all", chat_key],
            args=[budget.per_second, budget.burst, budget.reserve(priority), rate, burst, int(priority == ANSWER)],
        )
        if not overall and not chat:
            return None
        return Refusal(int(overall) / 1e6, int(chat) / 1e6)


def effective_priority(priority: int, waited: float, aging_seconds: float = AGING_SECONDS) -> float:
    """A waiter's priority, raised by one level for every `aging_seconds` it has waited."""
    return priority - waited / aging_seconds


@dataclass
class Outgoing:
    """The budget as the bot spends it: `await acquire(chat_id, priority)` before a counted request.

    Waiters queue by priority, aged by the time they have waited; only the first `turns` of the
    queue ask the buckets, so a thousand notices waiting for the overall bucket cost a few tries
    per token, not a thousand wake-ups. (One turn suits buckets in memory, which answer at once;
    buckets in Redis answer after a round trip, and a few turns at once keep it from pacing the
    bot.) A waiter whose own chat has no token leaves the queue until the chat has refilled (the
    others go on meanwhile); one waiting for the overall bucket keeps its turn, unless a better
    one arrives, which then goes first.
    """

    buckets: Buckets
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    aging_seconds: float = AGING_SECONDS
    turns: int = 1
    _queue: list[tuple[tuple[float, int], asyncio.Future]] = field(default_factory=list, init=False, repr=False)
    _holders: set[tuple[float, int]] = field(default_factory=set, init=False, repr=False)
    _better: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _order: itertools.count = field(default_factory=itertools.count, init=False, repr=False)

    async def acquire(self, chat_id: int | None, priority: int = ANSWER) -> float:
        """Wait for a token; returns the seconds waited."""
        start = self.clock()
        rank = rank_of(priority, start, next(self._order), self.aging_seconds)
        while True:
            await self._turn(rank)
            try:
                refusal = await self._take(chat_id, priority, rank)
            finally:
                self._pass(rank)
            if refusal is None:
                return self.clock() - start
            await self.sleep(refusal.chat)  # 0.0: a better waiter came, and goes first

    async def _take(self, chat_id: int | None, priority: int, rank: tuple[float, int]) -> Refusal | None:
        """With a turn: a token, waiting for the overall bucket as long as nobody better waits."""
        while True:
            refusal = await self.buckets.take(chat_id, priority)
            if refusal is None or refusal.chat > 0:
                return refusal
            if self._first() is not None and self._first() < rank:
                return Refusal(0.0, 0.0)
            self._better.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._better.wait(), min(max(refusal.overall, 0.001), MAX_POLL_SECONDS))

    async def _turn(self, rank: tuple[float, int]) -> None:
        if len(self._holders) < self.turns and self._first() is None:
            self._holders.add(rank)
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (rank, future))
        if self._holders and rank < max(self._holders):
            self._better.set()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # given the turn just as it was cancelled
                self._pass(rank)
            raise

    def _first(self) -> tuple[float, int] | None:
        while self._queue and self._queue[0][1].done():  # cancelled while waiting
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    def _pass(self, rank: tuple[float, int]) -> None:
        """This turn to the first waiter still waiting, or to nobody."""
        self._holders.discard(rank)
        while self._queue and len(self._holders) < self.turns:
            waiting, future = heapq.heappop(self._queue)
            if not future.done():
                self._holders.add(waiting)
                future.set_result(None)


def rank_of(priority: int, since: float, order: int, aging_seconds: float = AGING_SECONDS) -> tuple[float, int]:
    """A waiter's place in the queue. Ordering by `effective_priority` at any one moment is ordering
    by `priority * aging_seconds + since`, which does not change as time passes, so a heap keeps it."""
    return priority * aging_seconds + since, order
