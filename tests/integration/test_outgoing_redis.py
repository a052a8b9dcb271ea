"""The outgoing budget in Redis: two bot processes spend one budget, as Telegram counts one bot."""

from __future__ import annotations

import os

import pytest

from services.limits.outgoing import ACTION, ANSWER, SILENT, Budget, RedisBuckets

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")


async def test_two_processes_share_one_overall_budget(redis):
    client, prefix = redis
    # A rate so slow that no token comes back while the test runs: what is counted is the burst.
    budget = Budget(per_second=0.01, burst=5, per_chat_per_second=1000, chat_burst=1000)
    first, second = RedisBuckets(client, budget, prefix), RedisBuckets(client, budget, prefix)
    taken = [await (first, second)[i % 2].take(i, ANSWER) for i in range(10)]
    assert sum(refusal is None for refusal in taken) == 5, "one burst of 5 between both, not 5 each"
    assert all(refusal.overall == pytest.approx(100, abs=1) for refusal in taken[5:]), "the next in 100 s"


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
    assert (await second.take(78, SILENT)).chat == pytest.approx(2.0, abs=0.05), "two tokens short after 3 answers"
