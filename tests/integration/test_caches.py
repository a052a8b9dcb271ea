"""Accounts and trucks loaded in batches and cached; a change made by one process reaches the cache
of every other through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select

from services.accounts.accounts import AccountService
from services.accounts.trucks import TruckService
from services.container import Services
from services.kernel.clock import SystemClock
from services.kernel.invalidations import RedisInvalidations
from services.kernel.rules import BookingRules
from services.storage.models import Account


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


async def test_the_trucks_of_many_drivers_are_read_at_once_and_a_change_is_seen_at_once(db):
    accounts, trucks = AccountService(db, SystemClock()), TruckService(db, SystemClock())
    await asyncio.gather(*(accounts.ensure(i, "", "ru") for i in range(1, 201)))
    for i in range(1, 201, 2):
        await trucks.add(i, f"{i:03d}ABC02")
    lists = await asyncio.gather(*(trucks.list(i) for i in range(1, 201)))
    assert [[t.plate for t in found] for found in lists[:4]] == [["001ABC02"], [], ["003ABC02"], []]
    added = (await trucks.add(2, "222BBB02")).truck
    assert [t.plate for t in await trucks.list(2)] == ["222BBB02"]
    await trucks.set_trailer(2, added.id, "12AB02")
    assert (await trucks.get(2, added.id)).trailer_plate == "12AB02"
    assert await trucks.get(1, added.id) is None, "another account's truck"
    await trucks.remove(2, added.id)
    assert await trucks.list(2) == []


@asynccontextmanager
async def two_processes(db):
    """Two processes' services on one database, told of each other's changes through Redis."""
    from redis.asyncio import Redis

    channel = f"nobat-test-{uuid.uuid4().hex[:8]}:changed"
    clients = [Redis.from_url(os.environ["REDIS_URL"], client_name=channel.replace(":", "-")) for _ in range(2)]
    processes = [Services.build(db, [], BookingRules(), SystemClock(), invalidations=RedisInvalidations(c, channel))
                 for c in clients]
    listening = [asyncio.create_task(p.invalidations.run()) for p in processes]
    try:
        await asyncio.wait_for(asyncio.gather(*(p.invalidations.listening.wait() for p in processes)), 10)
        yield processes
    finally:
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
        for client in clients:
            await client.aclose()


async def _until(check) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.02)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
async def test_two_processes_sharing_redis_see_each_others_changes(db):
    async with two_processes(db) as (first, second):
        assert (await first.accounts.ensure(5, "Aigerim", "ru")).language == "ru"
        assert (await second.accounts.ensure(5, "Aigerim", "ru")).language == "ru"  # cached in both now
        assert await second.trucks.list(5) == []
        await first.accounts.set_language(5, "kk")
        truck = (await first.trucks.add(5, "123ABC02")).truck
        await _until(lambda: second.accounts.cache.get(5) is None and second.trucks.cache.get(5) is None)
        assert (await second.accounts.ensure(5, "Aigerim", "ru")).language == "kk"
        assert await second.accounts.language_of(5) == "kk"
        assert await second.trucks.list(5) == [truck]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
async def test_a_process_whose_redis_subscription_drops_forgets_its_cache_and_hears_again(db):
    from redis.asyncio import Redis

    async with two_processes(db) as (first, second):
        await second.accounts.ensure(8, "Ali", "fa")
        await second.trucks.list(8)
        assert second.accounts.cache.get(8) is not None
        admin = Redis.from_url(os.environ["REDIS_URL"])
        try:  # Redis drops this test's subscribers, as in a restart
            ours = first.invalidations.redis.get_connection_kwargs()["client_name"]
            for client in await admin.client_list(_type="pubsub"):
                if client.get("name") == ours:
                    await admin.client_kill_filter(_id=client["id"])
        finally:
            await admin.aclose()
        await _until(lambda: second.accounts.cache.get(8) is None and second.trucks.cache.get(8) is None)
        assert second.accounts.cache.get(8) is None, "changes may have been missed: nothing cached is trusted"
        await asyncio.wait_for(second.invalidations.listening.wait(), 10)
        await second.accounts.ensure(8, "Ali", "fa")
        await _until(lambda: first.invalidations.listening.is_set())
        await first.accounts.set_language(8, "ru")
        await _until(lambda: second.accounts.cache.get(8) is None)
        assert (await second.accounts.ensure(8, "Ali", "fa")).language == "ru", "subscribed again"
