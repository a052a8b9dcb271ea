"""The flood limit's count, in memory: a sliding window per account, one warning per window."""

from __future__ import annotations

from services.limits.flood import FloodLimit, FloodVerdict, MemoryFloodLimiter

PASS, WARN, DROP = FloodVerdict.PASS, FloodVerdict.WARN, FloodVerdict.DROP


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _checks(limiter, account: int, times: int) -> list[FloodVerdict]:
    return [await limiter.check(account) for _ in range(times)]


async def test_past_the_limit_the_first_update_is_answered_and_the_rest_dropped():
    clock = Clock()
    limiter = MemoryFloodLimiter(FloodLimit(updates=3, per_seconds=10), clock)
    assert await _checks(limiter, 1, 6) == [PASS, PASS, PASS, WARN, DROP, DROP]
    assert await _checks(limiter, 2, 1) == [PASS], "another account is counted apart"


async def test_the_window_slides_and_a_flood_that_goes_on_is_told_again_a_window_later():
    clock = Clock()
    limiter = MemoryFloodLimiter(FloodLimit(updates=2, per_seconds=10), clock)
    assert await _checks(limiter, 1, 3) == [PASS, PASS, WARN]
    clock.now += 5
    assert await _checks(limiter, 1, 1) == [DROP]
    clock.now += 5.1  # the first two have left the window, the warning has run out
    assert await _checks(limiter, 1, 4) == [PASS, PASS, WARN, DROP]


async def test_accounts_quiet_for_a_window_are_forgotten():
    clock = Clock()
    limiter = MemoryFloodLimiter(FloodLimit(updates=2, per_seconds=10), clock)
    for account in range(100):
        await _checks(limiter, account, 3)
    clock.now += 11
    await limiter.check(7)
    assert set(limiter._seen) == {7} and limiter._told_until == {}
