"""The outgoing budget in Redis: two bot processes spend one budget, as Telegram counts one bot."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from services.limits.outgoing import ACTION, ANSWER, SILENT, Budget, Outgoing, RedisBuckets

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")


async def test_two_processes_share_one_overall_budget(redis):
    client, prefix = redis
    budget = Budget(per_second=20, burst=5, per_chat_per_second=1000, chat_burst=1000)
    first, second = Outgoing(RedisBuckets(client, budget, prefix)), Outgoing(RedisBuckets(client, budget, prefix))
    start = time.monotonic()
    await asyncio.gather(*(limiter.acquire(i, ANSWER) for i in range(25) for limiter in (first, second)))
    elapsed = time.monotonic() - start
    # 50 tokens: 5 at once, then 20 a second between both; one limiter alone would allow twice that.
    assert elapsed >= (50 - 5) / 20 - 0.1


async def test_one_chat_is_limited_across_processes_and_the_reserve_is_kept(redis):
    client, prefix = redis
    budget = Budget(per_second=10, burst=10, per_chat_per_second=1, chat_burst=2)
    first, second = RedisBuckets(client, budget, prefix), RedisBuckets(client, budget, prefix)
    assert await first.take(77, ACTION) is None
    assert await second.take(77, ACTION) is None
    refusal = await first.take(77, ACTION)
    assert refusal is not None and 0.5 < refusal.chat <= 1.0 and refusal.overall == 0
    silent = [await (first, second)[i % 2].take(1000 + i, SILENT) for i in range(10)]
    assert sum(r is None for r in silent) == 4  # 8 tokens left, 4 of them kept for the others
    assert await second.take(2000, ANSWER) is None
    assert 0 < await client.ttl(f"{prefix}:outgoing:chat:77") <= 5, "an idle chat's bucket expires"
    for _ in range(3):  # a driver's own taps are answered without waiting for the chat's bucket
        assert await first.take(78, ANSWER) is None
    assert (await second.take(78, SILENT)).chat > 1.0
