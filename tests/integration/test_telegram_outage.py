"""A Bot API answering 502 for half a minute, while a real `nobat run` has 200 holds' ends and 200
reminders to tell: none is lost, none is sent twice, and Telegram's limits still hold once it is
back. The half minute is Telegram's, not the database's: the test runs once, on PostgreSQL (with
Redis) where they are configured, as in CI, else on SQLite; the outbox's claims are tested on both
(tests/integration/test_outbox.py, test_killed_outbox.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.databases import backends, fresh_database
from tests.integration.test_killed_outbox import (
    BOOKINGS, EXPIRED, HOLDS, SOON, check_what_each_driver_holds, env_for, every_driver_told, rows_of, seed, told,
)
from tests.processes import NobatProcess, kill_left


@pytest.fixture(params=backends()[-1:])
async def db(request, tmp_path):
    async with fresh_database(request.param, tmp_path) as database:
        yield database


async def test_a_bot_api_answering_502_for_half_a_minute_loses_no_message(tg, db, tmp_path):
    holders, booked = await seed(tg, db)
    tg.fail_all("sendMessage", "editMessageText", code=502, description="Bad Gateway")
    env = env_for(tg, db, NOBAT_OUTBOX__LONGEST_RETRY_SECONDS="4")
    bot = await NobatProcess(["run"], env, tmp_path, tmp_path / "bot.log").start()
    try:
        # The half minute counts from the bot's first try: a start on a busy machine takes seconds.
        await tg.wait_until(lambda: any(name == "sendMessage" for name, *_ in tg.errors), timeout=60)
        await asyncio.sleep(30)
        assert not any(told(u, EXPIRED) for u in holders) and not any(told(u, SOON) for u in booked)
        tg.recover()
        await tg.wait_until(lambda: every_driver_told(holders, booked), timeout=90)
        await asyncio.sleep(1.5)
        assert all(len(told(u, EXPIRED)) == 1 for u in holders) and all(len(told(u, SOON)) == 1 for u in booked)
        check_what_each_driver_holds(holders, booked)
        rows = await rows_of(db)
        assert {status for _, _, status in rows} == {"sent"} and len(rows) == HOLDS + BOOKINGS
        assert tg.limit_violations == 0
        assert await bot.stop() == 0
        assert "Traceback" not in bot.output()
    finally:
        await kill_left(bot)
