"""How fast one account may write to the bot: at most `updates` messages and taps within any
`per_seconds` (a sliding window). Past that, the first update is answered once, calmly, and the rest
are dropped, so that a script or a stuck phone cannot make the bot and its database work for it,
and the other drivers see no slowdown.

In this process's memory without Redis; in Redis with it, one atomic script per update, so that
several bot processes count one account's updates together. The scripts of the updates that
arrive at one moment go to Redis in one pipeline (`services.kernel.batching`): one round trip, not one each.
While Redis is away (`services.kernel.redis_fallback`), each process counts in its own memory again: a
flood is still stopped, by each process for what it sees.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from services.kernel.batching import Batcher
from services.kernel.redis_fallback import RedisFallback

log = logging.getLogger(__name__)


class FloodLimit(BaseModel):
    # A driver tapping quickly through a booking makes a few updates a second for a few seconds;
    # the default leaves that alone and stops a flood after its first 20.
    model_config = ConfigDict(frozen=True)

    updates: int = Field(20, ge=1, le=10_000)
    per_seconds: float = Field(10, gt=0, le=3600)


class FloodVerdict(Enum):
    PASS = "pass"
    WARN = "warn"  # the first update over the limit: tell the driver, once
    DROP = "drop"  # over the limit, and told already


class MemoryFloodLimiter:
    """One process's count of each account's recent updates."""

    def __init__(self, limit: FloodLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._told_until: dict[int, float] = {}
        self._swept = clock()

    async def check(self, account_id: int) -> FloodVerdict:
        return self.check_now(account_id)

    def check_now(self, account_id: int) -> FloodVerdict:
        now = self.clock()
        window = self.limit.per_seconds
        if now - self._swept > window:
            self._sweep(now)
        seen = self._seen.setdefault(account_id, deque())
        while seen and seen[0] <= now - window:
            seen.popleft()
        if len(seen) < self.limit.updates:
            seen.append(now)
            return FloodVerdict.PASS
        if self._told_until.get(account_id, now) > now:
            return FloodVerdict.DROP
        self._told_until[account_id] = now + window  # told again, if it goes on, a window later
        return FloodVerdict.WARN

    def _sweep(self, now: float) -> None:
        """Forget the accounts quiet for a whole window, so memory follows the active ones only."""
        window = self.limit.per_seconds
        self._seen = {account: seen for account, seen in self._seen.items() if seen and seen[-1] > now - window}
        self._told_until = {account: until for account, until in self._told_until.items() if until > now}
        self._swept = now


# KEYS: the account's recent updates (a sorted set of arrival times), when it was told (until then).
# ARGV: the limit, the window in microseconds, a member unique to this update, and the time in
# microseconds, or "" for the Redis server's: the one clock all processes share.
_CHECK = """
local now
if ARGV[4] == '' then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
    now = tonumber(ARGV[4])
end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
    return 0
end
local told = redis.call('GET', KEYS[2])
if told and tonumber(told) > now then
    return 2
end
redis.call('SET', KEYS[2], string.format('%.0f', now + window), 'PX', math.ceil(window / 1000))
return 1
"""
_VERDICTS = {0: FloodVerdict.PASS, 1: FloodVerdict.WARN, 2: FloodVerdict.DROP}


class RedisFloodLimiter:
    """The count kept in Redis, shared by every bot process using it; in this process's memory
    while Redis is away."""

    def __init__(self, redis, limit: FloodLimit, prefix: str, clock: Callable[[], float] | None = None, *,
                 fallback: RedisFallback | None = None) -> None:
        """`clock`: seconds, for a simulation whose time is not the Redis server's."""
        self.limit = limit
        self.clock = clock
        self.prefix = prefix
        self.redis = redis
        self._check = redis.register_script(_CHECK)
        self._checks = Batcher(self._check_batch)
        self.fallback = fallback or RedisFallback()
        self.alone = MemoryFloodLimiter(limit, clock or time.monotonic)

    async def check(self, account_id: int) -> FloodVerdict:
        try:
            return await self.fallback.call(lambda: self._checks(account_id), lambda: self.alone.check_now(account_id))
        except Exception:  # a fault of the check itself: better an unlimited driver than a bot that answers nobody
            log.exception("flood limit not checked for account %s", account_id)
            return FloodVerdict.PASS

    async def _check_batch(self, account_ids: list[int]) -> list[FloodVerdict]:
        window = round(self.limit.per_seconds * 1_000_000)
        now = "" if self.clock is None else str(round(self.clock() * 1_000_000))
        async with self.redis.pipeline(transaction=False) as pipe:
            for account_id in account_ids:
                key = f"{self.prefix}:flood:{account_id}"
                await self._check(keys=[key, f"{key}:told"], args=[self.limit.updates, window, uuid.uuid4().hex, now],
                                  client=pipe)
            verdicts = await pipe.execute()
        return [_VERDICTS[int(verdict)] for verdict in verdicts]
