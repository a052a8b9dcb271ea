"""The outgoing budget: Telegram's overall, per-chat and per-group limits, and who goes first.

All on simulated time: the buckets' clock is a number the test moves, and the waiting (`Outgoing`)
runs in a loop whose clock jumps to the next timer (`tests.simulated_time`), so what is asserted is
which request got a token when, in simulated seconds. Each rule has a test that fails without it:
the overall rate and burst, a private chat's and a group's, the reserve, the priorities, aging,
answers not waiting for their chat, a chat without tokens holding up nobody.
"""

from __future__ import annotations

import asyncio

import pytest

from services.limits.outgoing import ACTION, ANSWER, SILENT, Budget, MemoryBuckets, Outgoing, effective_priority, rank_of
from tests.simulated_time import simulated


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
    assert sent == 3 + 19  # the burst the group's bucket starts with, then one every 3 s until 59.9 s


def test_the_last_tokens_of_the_overall_bucket_are_kept_for_answers():
    clock = FakeClock()
    buckets = MemoryBuckets(Budget(per_second=10, burst=10, per_chat_per_second=100, chat_burst=100), clock)
    silent = taken(buckets, None, 20, SILENT)
    assert silent == 6  # 40% of the burst is left to the others
    assert taken(buckets, None, 20, ACTION) == 2
    assert taken(buckets, None, 20, ANSWER) == 2


def test_a_process_alone_keeps_to_its_share_of_every_limit():
    clock = FakeClock()
    alone = Budget.of(30, 1, 20).shared(0.5)  # one of two processes, while Redis is away
    overall, chats = MemoryBuckets(alone, clock), MemoryBuckets(alone, clock)
    assert taken(overall, None, 40) == 7  # half the overall burst of 15
    clock.now += 1.0
    assert taken(overall, None, 40) == 7  # half the rate, 15 a second (and the half token of the burst)
    assert taken(chats, 501, 3, ACTION) == 1  # a private chat: one at once, then one every two seconds
    assert taken(chats, -100123, 3, ACTION) == 1  # a group: half its burst of 3, then ten a minute
    clock.now += 1.9
    assert taken(chats, 501, 3, ACTION) == 0
    clock.now += 0.1
    assert taken(chats, 501, 3, ACTION) == 1
    clock.now += 0.9
    assert taken(chats, -100123, 3, ACTION) == 0
    clock.now += 0.1  # the half token left, and half a token in three seconds
    assert taken(chats, -100123, 3, ACTION) == 1


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


def outgoing(budget: Budget, buckets: type[MemoryBuckets] = MemoryBuckets, **options) -> Outgoing:
    """The budget as the bot spends it, on the running (simulated) loop's clock."""
    clock = asyncio.get_running_loop().time
    return Outgoing(buckets(budget, clock), clock=clock, **options)


def since_start() -> float:
    return round(asyncio.get_running_loop().time() - 1000.0, 3)


@simulated
async def test_answers_go_before_silent_edits_that_waited_longer():
    budget = outgoing(Budget(per_second=50, burst=1, per_chat_per_second=100, chat_burst=100))
    order: list[tuple[str, float]] = []

    async def send(name: str, priority: int) -> None:
        await budget.acquire(None, priority)
        order.append((name, since_start()))

    edits = [asyncio.create_task(send(f"edit{i}", SILENT)) for i in range(8)]
    await asyncio.sleep(0.03)  # the edits are waiting already: two have had a token
    answers = [asyncio.create_task(send(f"answer{i}", ANSWER)) for i in range(5)]
    await asyncio.gather(*edits, *answers)
    assert [name for name, _ in order] == [
        "edit0", "edit1", "answer0", "answer1", "answer2", "answer3", "answer4",
        "edit2", "edit3", "edit4", "edit5", "edit6", "edit7"]
    assert order[-1][1] == pytest.approx(12 / 50, abs=0.015), "one token every fiftieth of a second after the burst"


@simulated
async def test_silent_edits_are_not_starved_by_a_steady_stream_of_answers():
    budget = outgoing(Budget(per_second=100, burst=1, per_chat_per_second=1000, chat_burst=1000), aging_seconds=0.2)
    stop = asyncio.Event()
    answered = 0

    async def answers() -> None:
        nonlocal answered
        for _ in range(100):  # five at a time, for five seconds at the rate
            if stop.is_set():
                return
            await asyncio.gather(*(budget.acquire(None, ANSWER) for _ in range(5)))
            answered += 5

    stream = asyncio.create_task(answers())
    await asyncio.sleep(1.0)  # the stream takes every token
    assert answered >= 90, "the stream takes about every token of the second"
    try:
        waited = await asyncio.wait_for(budget.acquire(None, SILENT), timeout=10)
    finally:
        stop.set()
        await stream
    # Two levels below an answer, it goes before the answers that came 0.4 s after it.
    assert 0.4 <= waited <= 0.45


def test_the_queue_order_is_the_aged_priority_order_at_every_moment():
    waiters = [(SILENT, 0.0), (ACTION, 15.0), (ANSWER, 30.0), (SILENT, 5.0), (ANSWER, 55.0)]
    for now in (60.0, 90.0, 200.0):
        by_rank = sorted(range(len(waiters)), key=lambda i: rank_of(*waiters[i], i, 20))
        by_effective = sorted(range(len(waiters)), key=lambda i: (effective_priority(
            waiters[i][0], now - waiters[i][1], 20), i))
        assert by_rank == by_effective


@simulated
async def test_many_waiting_notices_ask_the_buckets_about_once_per_token():
    budget = outgoing(Budget(per_second=400, burst=1, per_chat_per_second=1000, chat_burst=1000), CountingBuckets)
    waited = await asyncio.gather(*(budget.acquire(i, ACTION) for i in range(300)))
    # Each token is tried for by the first waiter only: a few tries per token, not one per waiter.
    assert budget.buckets.takes <= 2 * 300
    assert max(waited) == pytest.approx(299 / 400, abs=0.01), "and the tokens came at the rate"


@simulated
async def test_a_chat_without_tokens_does_not_hold_up_the_other_chats():
    budget = outgoing(Budget(per_second=1000, burst=100, per_chat_per_second=1, chat_burst=1))
    await budget.acquire(7, ACTION)
    second_to_seven = asyncio.create_task(budget.acquire(7, ACTION))
    await asyncio.sleep(0.01)
    waited = await asyncio.gather(*(budget.acquire(100 + i, ACTION) for i in range(20)))
    assert max(waited) == 0.0 and not second_to_seven.done()
    assert await second_to_seven == pytest.approx(1.0, abs=0.01), "its chat's next token, a second after the first"


@simulated
async def test_a_cancelled_waiter_leaves_the_queue_and_the_others_still_get_their_tokens():
    budget = outgoing(Budget(per_second=50, burst=1, per_chat_per_second=1000, chat_burst=1000))
    waiters = [asyncio.create_task(budget.acquire(i, SILENT)) for i in range(10)]
    await asyncio.sleep(0.03)
    for task in waiters[::2]:
        task.cancel()
    waited = await asyncio.wait_for(asyncio.gather(*waiters[1::2]), 2)
    assert len(waited) == 5 and max(waited) <= 0.15, "the cancelled ones' turns went to the others"


class CountingBuckets(MemoryBuckets):
    takes = 0

    async def take(self, chat_id, priority):
        self.takes += 1
        return await super().take(chat_id, priority)


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


@simulated
async def test_buckets_across_a_round_trip_are_asked_by_a_few_waiters_at_once_never_by_all():
    budget = outgoing(Budget(per_second=10_000, burst=500, per_chat_per_second=1000, chat_burst=1000), RoundTripBuckets,
                      turns=4)
    await asyncio.gather(*(budget.acquire(i, ACTION) for i in range(200)))
    assert budget.buckets.most_at_once == 4
