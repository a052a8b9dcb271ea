"""The outgoing budget: Telegram's overall, per-chat and per-group limits, and who goes first."""

from __future__ import annotations

import asyncio

import pytest

from services.limits.outgoing import (
    ACTION,
    ANSWER,
    SILENT,
    Budget,
    MemoryBuckets,
    Outgoing,
    effective_priority,
    rank_of,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def taken(buckets: MemoryBuckets, chat_id: int | None, times: int, priority: int = ANSWER) -> int:
    return sum(buckets.take_now(chat_id, priority) is None for _ in range(times))


def test_the_overall_bucket_lets_a_burst_through_then_its_rate():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget(per_second=30, burst=15, chat_burst=100, per_chat_per_second=100), clock)
    assert taken(buckets, None, 40) == 15
    clock.now += 0.5
    assert taken(buckets, None, 40) == 15
    clock.now += 0.1
    assert taken(buckets, None, 40) == 3


def test_one_private_chat_gets_about_one_notice_a_second_and_others_are_not_held_up():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget.of(30, 1, 20), clock)
    assert taken(buckets, 501, 5, ACTION) == 2  # the burst
    refusal = buckets.take_now(501, SILENT)
    assert refusal.chat == pytest.approx(1.0) and refusal.overall == 0
    assert taken(buckets, 502, 1, ACTION) == 1
    clock.now += 1.0
    assert taken(buckets, 501, 5, ACTION) == 1


def test_answers_to_a_drivers_taps_spend_the_chats_bucket_without_waiting_for_it():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget.of(30, 1, 20), clock)
    assert taken(buckets, 501, 5, ANSWER) == 5  # the driver paces these; Telegram allows a burst
    refusal = buckets.take_now(501, ACTION)
    assert refusal.chat == pytest.approx(3.0)  # the notices wait until the chat has had its quiet
    clock.now += 3.0
    assert taken(buckets, 501, 2, ACTION) == 1


def test_a_group_gets_twenty_messages_a_minute():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget.of(30, 1, 20), clock)
    sent = 0
    for _ in range(600):  # one minute, a try every 0.1 s
        sent += taken(buckets, -100123, 1, ACTION)
        clock.now += 0.1
    assert 20 <= sent <= 20 + 3  # the rate, plus the burst the group bucket starts with


def test_the_last_tokens_of_the_overall_bucket_are_kept_for_answers():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget(per_second=10, burst=10, per_chat_per_second=100, chat_burst=100), clock)
    silent = taken(buckets, None, 20, SILENT)
    assert silent == 6  # 40% of the burst is left to the others
    assert taken(buckets, None, 20, ACTION) == 2
    assert taken(buckets, None, 20, ANSWER) == 2


def test_a_refused_request_takes_nothing():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget.of(30, 1, 20), clock)
    assert taken(buckets, 7, 2, SILENT) == 2
    overall_before = buckets.overall.tokens
    assert buckets.take_now(7, SILENT) is not None
    assert buckets.overall.tokens == overall_before


def test_waiting_raises_a_priority_until_it_counts_as_the_highest():
    assert effective_priority(SILENT, 0, 20) > effective_priority(ANSWER, 0, 20)
    assert effective_priority(SILENT, 40, 20) <= effective_priority(ANSWER, 0, 20)


async def test_answers_go_before_silent_edits_that_waited_longer():
    budget = Budget(per_second=50, burst=1, per_chat_per_second=100, chat_burst=100)
    outgoing = Outgoing(MemoryBuckets(budget))
    order: list[str] = []

    async def send(name: str, priority: int) -> None:
        await outgoing.acquire(None, priority)
        order.append(name)

    edits = [asyncio.create_task(send(f"edit{i}", SILENT)) for i in range(8)]
    await asyncio.sleep(0.03)  # the edits are waiting already
    answers = [asyncio.create_task(send(f"answer{i}", ANSWER)) for i in range(5)]
    await asyncio.gather(*edits, *answers)
    last_answer = max(order.index(f"answer{i}") for i in range(5))
    edits_before = [name for name in order[:last_answer] if name.startswith("edit")]
    assert len(edits_before) <= 3, order  # the ones that got a token before the answers came


async def test_silent_edits_are_not_starved_by_a_steady_stream_of_answers():
    budget = Budget(per_second=100, burst=1, per_chat_per_second=1000, chat_burst=1000)
    outgoing = Outgoing(MemoryBuckets(budget), aging_seconds=0.2)
    stop = asyncio.Event()

    async def answers() -> None:
        while not stop.is_set():
            await asyncio.gather(*(outgoing.acquire(None, ANSWER) for _ in range(5)))

    stream = asyncio.create_task(answers())
    try:
        waited = await asyncio.wait_for(outgoing.acquire(None, SILENT), timeout=3)
    finally:
        stop.set()
        await stream
    assert waited < 3


def test_the_queue_order_is_the_aged_priority_order_at_every_moment():
    waiters = [(SILENT, 0.0), (ACTION, 15.0), (ANSWER, 30.0), (SILENT, 5.0), (ANSWER, 55.0)]
    for now in (60.0, 90.0, 200.0):
        by_rank = sorted(range(len(waiters)), key=lambda i: rank_of(*waiters[i], i, 20))
        by_effective = sorted(range(len(waiters)), key=lambda i: (effective_priority(
            waiters[i][0], now - waiters[i][1], 20), i))
        assert by_rank == by_effective


class CountingBuckets(MemoryBuckets):
    takes = 0

    async def take(self, chat_id, priority):
        self.takes += 1
        return await super().take(chat_id, priority)


async def test_many_waiting_notices_ask_the_buckets_about_once_per_token():
    buckets = CountingBuckets(Budget(per_second=400, burst=1, per_chat_per_second=1000, chat_burst=1000))
    outgoing = Outgoing(buckets)
    await asyncio.gather(*(outgoing.acquire(i, ACTION) for i in range(300)))
    # Each token is tried for by the first waiter only: a few tries per token, not one per waiter.
    assert buckets.takes < 3 * 300


async def test_a_chat_without_tokens_does_not_hold_up_the_other_chats():
    outgoing = Outgoing(MemoryBuckets(Budget(per_second=1000, burst=100, per_chat_per_second=1, chat_burst=1)))
    await outgoing.acquire(7, ACTION)
    second_to_seven = asyncio.create_task(outgoing.acquire(7, ACTION))  # waits about a second
    await asyncio.sleep(0.01)
    waited = await asyncio.wait_for(asyncio.gather(*(outgoing.acquire(100 + i, ACTION) for i in range(20))), 0.5)
    assert max(waited) < 0.1 and not second_to_seven.done()
    assert 0.8 < await second_to_seven < 1.5


async def test_a_cancelled_waiter_leaves_the_queue_and_the_others_still_get_their_tokens():
    outgoing = Outgoing(MemoryBuckets(Budget(per_second=50, burst=1, per_chat_per_second=1000, chat_burst=1000)))
    waiters = [asyncio.create_task(outgoing.acquire(i, SILENT)) for i in range(10)]
    await asyncio.sleep(0.03)
    for task in waiters[::2]:
        task.cancel()
    done = await asyncio.wait_for(asyncio.gather(*waiters[1::2]), 2)
    assert len(done) == 5


class RoundTripBuckets(MemoryBuckets):
    """Buckets that answer after a round trip, as Redis does; counts the questions asked at once."""

    asking = most_at_once = 0

    async def take(self, chat_id, priority):
        self.asking += 1
        self.most_at_once = max(self.most_at_once, self.asking)
        try:
            await asyncio.sleep(0.002)
            return self.take_now(chat_id, priority)
        finally:
            self.asking -= 1


async def test_buckets_across_a_round_trip_are_asked_by_a_few_waiters_at_once_never_by_all():
    buckets = RoundTripBuckets(Budget(per_second=10_000, burst=500, per_chat_per_second=1000, chat_burst=1000))
    outgoing = Outgoing(buckets, turns=4)
    await asyncio.gather(*(outgoing.acquire(i, ACTION) for i in range(200)))
    assert buckets.most_at_once == 4
