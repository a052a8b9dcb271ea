"""Accounts loaded in batches and cached; a change made by one process reaches the cache of every
other through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from sqlalchemy import func, select

from services.accounts import AccountService
from services.clock import SystemClock
from services.invalidations import RedisInvalidations
from services.storage import Account


async def test_a_thousand_new_drivers_at_once_each_get_one_account(db):
    accounts = AccountService(db, SystemClock())
    views = await asyncio.gather(*(accounts.ensure(i, f"Driver {i}", "kk" if i % 2 else "fa-IR") for i in range(1, 1001)),
                                 accounts.ensure(7, "Driver 7 again", "ru"))
    assert [v.id for v in views] == [*range(1, 1001), 7]
    assert views[6] == views[-1], "the same account, as first created"
    assert {v.language for v in views} == {"kk", "fa"}
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 1000


async def test_a_language_changed_elsewhere_is_not_served_from_the_cache(db):
    accounts = AccountService(db, SystemClock())
    assert (await accounts.ensure(1, "Ali", "fa")).language == "fa"
    async with db.transaction() as session:  # another process, without Redis to tell this one
        await session.execute(Account.__table__.update().values(language="ru"))
    assert (await accounts.ensure(1, "Ali", "fa")).language == "fa", "cached: one process, or Redis, is the setup"
    await accounts.set_language(1, "kk")
    assert (await accounts.ensure(1, "Ali", "fa")).language == "kk"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
async def test_two_processes_sharing_redis_see_each_others_language_changes(db):
    from redis.asyncio import Redis

    channel = f"nobat-test-{uuid.uuid4().hex[:8]}:accounts:changed"
    clients = [Redis.from_url(os.environ["REDIS_URL"]) for _ in range(2)]
    first, second = (AccountService(db, SystemClock(), RedisInvalidations(c, channel)) for c in clients)
    listening = [asyncio.create_task(a.invalidations.run()) for a in (first, second)]
    try:
        await asyncio.wait_for(asyncio.gather(*(a.invalidations.listening.wait() for a in (first, second))), 10)
        assert (await first.ensure(5, "Aigerim", "ru")).language == "ru"
        assert (await second.ensure(5, "Aigerim", "ru")).language == "ru"  # cached in both now
        await first.set_language(5, "kk")
        for _ in range(100):
            if second.cache.get(5) is None:
                break
            await asyncio.sleep(0.02)
        assert (await second.ensure(5, "Aigerim", "ru")).language == "kk"
        assert await second.language_of(5) == "kk"
    finally:
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
        for client in clients:
            await client.aclose()
