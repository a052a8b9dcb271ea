"""A drain (what the tests, the demo and a worker's tick wait on) returns only once what is due has
been delivered, even when the sender's own loop claimed it a moment before: between a claim and the
start of its deliveries, the items are leased in the database and under way nowhere."""

from __future__ import annotations

import asyncio

from bot.loops.repeating import Claiming


class SlowClaims(Claiming[str]):
    """A claim that takes a while (the rows' notices and cards are loaded with it)."""

    def __init__(self) -> None:
        super().__init__(interval=0.01)
        self.due = ["the driver's notice"]
        self.delivered: list[str] = []
        self.claiming = asyncio.Event()

    async def claim(self, flying: list[str]) -> tuple[list[str], bool]:
        if not self.due:
            return [], False
        claimed, self.due = self.due, []
        self.claiming.set()
        await asyncio.sleep(0.2)
        return claimed, False

    async def deliver(self, item: str) -> None:
        await asyncio.sleep(0.01)
        self.delivered.append(item)

    async def release(self, items: list[str]) -> None:
        self.due.extend(items)


async def test_a_drain_during_the_loops_claim_waits_for_what_that_claim_took():
    sender = SlowClaims()
    sender.start()
    try:
        await sender.claiming.wait()  # the loop has taken the notice and is still loading it
        await sender.drain()
        assert sender.delivered == ["the driver's notice"]
    finally:
        await sender.stop()
