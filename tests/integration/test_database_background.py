"""Work nobody is waiting for (the outbox's sender) holds at most half the pool's connections: a
burst of deliveries that takes every one it may still leaves connections for a driver's tap, and a
session it opens within its own session never waits for itself."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from services.storage.database import in_background
from services.storage.models import Account


async def test_a_burst_in_the_background_leaves_half_the_pool_to_drivers_taps(db):
    pool = db.engine.pool.size() + db.engine.pool._max_overflow  # every connection the pool may open
    inside, most, release = 0, 0, asyncio.Event()

    async def delivery() -> None:
        nonlocal inside, most
        with in_background():
            async with db.reading() as session:
                await session.execute(select(Account.id).limit(1))
                inside += 1
                most = max(most, inside)
                await release.wait()
                inside -= 1

    burst = [asyncio.create_task(delivery()) for _ in range(2 * pool)]
    for _ in range(100):  # until every delivery that may hold a connection holds one
        await asyncio.sleep(0.02)
        if inside == pool // 2:
            break
    # A driver's tap meanwhile: it gets a connection at once, without waiting for the burst.
    async with asyncio.timeout(2), db.transaction() as session:
        await session.execute(select(Account.id).limit(1))
    assert inside == most == pool // 2, "half the pool, the rest waiting their turn"
    release.set()
    await asyncio.gather(*burst)
    assert most == pool // 2


async def test_a_background_session_within_its_own_session_does_not_wait_for_itself(db):
    pool = db.engine.pool.size() + db.engine.pool._max_overflow
    release = asyncio.Event()

    async def nested() -> None:
        with in_background():
            async with db.transaction() as session:
                await session.execute(select(Account.id).limit(1))
                await release.wait()
                async with db.reading() as inner:  # every turn is taken: this one is its own
                    await inner.execute(select(Account.id).limit(1))

    tasks = [asyncio.create_task(nested()) for _ in range(pool // 2)]
    await asyncio.sleep(0.2)
    release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(*tasks)
