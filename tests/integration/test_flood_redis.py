"""The flood limit counted in Redis: the same verdicts as in memory, shared by every bot process."""

from __future__ import annotations

import os

import pytest

from services.limits.flood import FloodLimit, FloodVerdict, RedisFloodLimiter

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
PASS, WARN, DROP = FloodVerdict.PASS, FloodVerdict.WARN, FloodVerdict.DROP


async def test_two_processes_count_one_account_together(redis):
    client, prefix = redis
    limit = FloodLimit(updates=4, per_seconds=30)
    first, second = RedisFloodLimiter(client, limit, prefix), RedisFloodLimiter(client, limit, prefix)
    verdicts = [await (first if i % 2 else second).check(42) for i in range(7)]
    assert verdicts == [PASS, PASS, PASS, PASS, WARN, DROP, DROP]
    assert await first.check(43) is PASS
    assert 0 < await client.pttl(f"{prefix}:flood:42") <= 30_000, "an idle account's count expires"


async def test_on_a_simulated_clock_the_window_clears_when_that_clock_moves(redis):
    client, prefix = redis
    now = [1_000_000.0]
    limiter = RedisFloodLimiter(client, FloodLimit(updates=2, per_seconds=10), prefix, clock=lambda: now[0])
    assert [await limiter.check(7) for _ in range(4)] == [PASS, PASS, WARN, DROP]
    now[0] += 5
    assert await limiter.check(7) is DROP, "within the window, and told already"
    now[0] += 6
    assert [await limiter.check(7) for _ in range(4)] == [PASS, PASS, WARN, DROP], "a window later: told again"


async def test_without_redis_the_limit_is_counted_in_this_process():
    from redis.asyncio import Redis

    gone = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        limiter = RedisFloodLimiter(gone, FloodLimit(updates=1), "nobat")
        assert [await limiter.check(42) for _ in range(3)] == [PASS, WARN, DROP]
        assert await limiter.check(43) is PASS
    finally:
        await gone.aclose()
