"""Redis goes away while the bot runs (it was there at start; then its port refuses and the open
connections drop) and comes back: drivers' commands that need no conversation state are answered
as ever, a step that needs it asks to try again shortly, the outgoing budget and the flood limit
keep to this process's memory meanwhile, and the first update after Redis is back uses it again.

A real Redis behind `tests.proxy.Proxy`, cut and restored: a private `redis-server` when one is on
PATH (so these run without REDIS_URL), else REDIS_URL's server; skipped with neither.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from bot.fsm import BatchedRedisStorage
from handlers.common.conversation import UNKNOWN, StateUnavailable
from services.kernel.redis_fallback import RedisFallback
from services.limits.flood import FloodLimit, FloodVerdict, RedisFloodLimiter
from services.limits.outgoing import ANSWER, Budget, RedisBuckets
from tests.processes import free_port
from tests.proxy import Proxy
from tests.story import t

BUSY = "We are very busy right now; nothing was lost. Please try again in a few seconds."
PASS, WARN, DROP = FloodVerdict.PASS, FloodVerdict.WARN, FloodVerdict.DROP


async def _answers(port: int) -> bool:
    client = Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


@pytest.fixture
async def redis_proxy():
    """A Proxy in front of a real Redis; its URL is `redis://127.0.0.1:<proxy.port>/<db>`."""
    process, db = None, 0
    if shutil.which("redis-server"):
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        async with asyncio.timeout(10):
            while not await _answers(port):
                await asyncio.sleep(0.02)
        host = "127.0.0.1"
    elif os.environ.get("REDIS_URL"):
        url = make_url(os.environ["REDIS_URL"].replace("redis://", "postgresql://", 1))  # any URL parser will do
        host, port, db = url.host or "127.0.0.1", url.port or 6379, int(url.database or 0)
    else:
        pytest.skip("neither redis-server on PATH nor REDIS_URL")
    proxy = Proxy(host, port)
    await proxy.start()
    proxy.url = f"redis://127.0.0.1:{proxy.port}/{db}"
    try:
        yield proxy
    finally:
        await proxy.close()
        if process is not None:
            process.terminate()
            await process.wait()


@pytest.fixture
async def client(redis_proxy):
    """A client through the proxy, made as the bot makes its own (`bot.startup.connect_redis`)."""
    redis = Redis(connection_pool=BlockingConnectionPool.from_url(
        redis_proxy.url, max_connections=8, timeout=5, socket_connect_timeout=1, socket_timeout=1))
    yield redis
    await redis.aclose()


@pytest.fixture
def settings_overrides(redis_proxy) -> dict:
    return {"redis_url": redis_proxy.url}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_driver_is_answered_while_redis_is_away_and_goes_on_from_the_same_step_once_it_is_back(
        redis_proxy, drivers, nobat, caplog):
    driver = drivers("kk")
    welcome = await driver.send("/start")
    help_text = await driver.send("/help")
    asked = await driver.send("/book")  # no truck yet: the plate is asked for, and the step kept in Redis
    assert "/book" in welcome.text and "123ABC02" in asked.text

    with caplog.at_level(logging.INFO):
        await redis_proxy.cut()
        again = await driver.send("/start")
        assert again is not None and again.text == welcome.text, "commands that need no state are answered"
        assert (await driver.send("/help")).text == help_text.text
        assert (await driver.send("/language")).button_texts == ["Қазақша", "Русский", "فارسی"]
        answer = await driver.send("123ABC02")
        assert answer is not None and answer.text == t("kk", BUSY), "a step's answer asks to try again"
        assert (await driver.send("/cancel")).text == t("kk", BUSY), "nor can a step be left unseen"

        await redis_proxy.restore()
        since = float("%d.%06d" % await nobat.redis.time())
        trailer = await driver.send("123ABC02")
        assert trailer is not None and t("kk", "Skip") in trailer.button_texts, "the same step, at once"
        stamp = await nobat.redis.hget(f"{nobat.settings.redis_prefix}:outgoing:chat:{driver.user_id}", "stamp")
        assert float(stamp) >= since, "the reply spent the budget shared in Redis again"

    away = [r for r in caplog.records if r.name == "services.kernel.redis_fallback"]
    assert [r.levelname for r in away] == ["WARNING", "INFO"], [r.getMessage() for r in away]
    deaf = [r for r in caplog.records if r.name == "services.kernel.invalidations" and r.levelno >= logging.WARNING]
    assert len(deaf) == 1, "the lost subscription is said once, not at every try to subscribe again"
    assert not [r for r in caplog.records if r.exc_info], "no traceback: Redis away is no fault of the code"


async def test_the_outgoing_budget_keeps_to_its_share_in_memory_and_goes_back_to_redis_at_once(redis_proxy, client):
    prefix = f"nobat-test-{uuid.uuid4().hex[:8]}"
    clock = Clock()
    budget = Budget(per_second=10, burst=10, per_chat_per_second=1000, chat_burst=1000)
    buckets = RedisBuckets(client, budget, prefix, share=0.5, clock=clock)
    await redis_proxy.cut()
    taken = [await buckets.take(None, ANSWER) for _ in range(8)]
    assert sum(refusal is None for refusal in taken) == 5, "half of the burst of 10 while Redis is away"
    assert taken[5].overall == pytest.approx(1 / 5), "at half the rate: the next token in a fifth of a second"
    clock.now += 1.0
    assert sum([await buckets.take(None, ANSWER) is None for _ in range(8)]) == 5, "five a second"

    await redis_proxy.restore()
    assert await buckets.take(None, ANSWER) is None
    assert float(await client.hget(f"{prefix}:outgoing:all", "tokens")) == 9, "the first take after is Redis's"
    await client.delete(f"{prefix}:outgoing:all")


async def test_the_flood_limit_counts_in_memory_while_redis_is_away_and_in_redis_again_once_it_is_back(
        redis_proxy, client):
    prefix = f"nobat-test-{uuid.uuid4().hex[:8]}"
    limiter = RedisFloodLimiter(client, FloodLimit(updates=2, per_seconds=10), prefix, clock=Clock())
    await redis_proxy.cut()
    assert [await limiter.check(7) for _ in range(4)] == [PASS, PASS, WARN, DROP], "still limited, by this process"
    await redis_proxy.restore()
    assert await limiter.check(7) is PASS
    assert await client.zcard(f"{prefix}:flood:7") == 1, "counted in Redis again, from the first update after"
    await client.delete(f"{prefix}:flood:7")


async def test_the_conversation_state_reads_as_unknown_while_redis_is_away_and_is_there_again_after(
        redis_proxy, client):
    storage = BatchedRedisStorage(client, key_builder=DefaultKeyBuilder(prefix=f"nobat-test-{uuid.uuid4().hex[:8]}"))
    key = StorageKey(bot_id=1, chat_id=7, user_id=7)
    await storage.set_state(key, "TruckFlow:entering_plate")
    await storage.set_data(key, {"then_book": True})

    await redis_proxy.cut()
    assert await storage.get_state(key) == UNKNOWN
    with pytest.raises(StateUnavailable):
        await storage.get_data(key)
    with pytest.raises(StateUnavailable):
        await storage.set_state(key, "TruckFlow:entering_trailer")
    await storage.set_state(key, None)  # /start while away: answered, though nothing is cleared

    await redis_proxy.restore()
    assert await storage.get_state(key) == "TruckFlow:entering_plate"
    assert await storage.get_data(key) == {"then_book": True}
    await storage.set_state(key, None)
    await storage.set_data(key, {})


async def test_while_redis_is_away_only_one_call_at_a_time_tries_it():
    fallback, trying, most = RedisFallback(), 0, 0

    async def refused():
        nonlocal trying, most
        trying += 1
        most = max(most, trying)
        try:
            await asyncio.sleep(0.01)
            raise ConnectionRefusedError(111, "Connection refused")
        finally:
            trying -= 1

    assert await fallback.call(refused, lambda: "instead") == "instead"
    assert await asyncio.gather(*(fallback.call(refused, lambda: "instead") for _ in range(20))) == ["instead"] * 20
    assert most == 1, "the others did not wait for Redis"

    async def answered():
        return "redis"

    assert await fallback.call(answered, lambda: "instead") == "redis"
    assert fallback.away is None
