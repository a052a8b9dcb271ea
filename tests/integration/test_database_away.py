"""The database goes away under the running workers and senders (PostgreSQL cut off behind a proxy;
SQLite's write lock held by another connection), stays away for many of their rounds, and comes
back: each loop says so in one warning line when it goes and one line when it is back, and nothing
in between (it used to log a traceback at every round, 39 in 45 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.engine import make_url

from bot.loops.repeating import Repeating
from services.storage.database import Database, DatabaseTimeouts
from services.storage.unavailable import DatabaseUnavailable
from tests.conftest import TOKEN
from tests.databases import backends, blank_database, frozen
from tests.proxy import Proxy

TIMEOUTS = DatabaseTimeouts(connect_timeout_seconds=1, statement_timeout_seconds=0.3)
ROUNDS_AWAY = 5  # rounds of every loop that fail while the database is away


@pytest.fixture(params=backends())
async def database(request, tmp_path) -> AsyncIterator[tuple[Database, Callable]]:
    """A migrated database and `away()`, the context in which it does not answer."""
    async with blank_database(request.param, tmp_path) as url:
        if request.param == "sqlite":
            db = Database(url, timeouts=TIMEOUTS)
            await db.migrate()
            try:
                yield db, lambda: frozen(db)
            finally:
                await db.close()
            return
        server = make_url(os.environ["DATABASE_URL"])
        proxy = Proxy(server.host or "127.0.0.1", server.port or 5432)
        await proxy.start()

        @asynccontextmanager
        async def away():
            await proxy.cut()
            try:
                yield
            finally:
                await proxy.restore()

        db = Database(make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False), timeouts=TIMEOUTS)
        try:
            await db.migrate()
            yield db, away
        finally:
            await db.close()
            await proxy.close()


class Rounds:
    """Each round of a loop, as it ended: None when it got through, else its error."""

    def __init__(self, loop: Repeating) -> None:
        self.ends: list[BaseException | None] = []
        self._changed = asyncio.Condition()
        step = loop.step

        async def counted():
            try:
                result = await step()
            except BaseException as error:
                await self._end(error)
                raise
            await self._end(None)
            return result

        loop.step = counted

    async def _end(self, outcome: BaseException | None) -> None:
        async with self._changed:
            self.ends.append(outcome)
            self._changed.notify_all()

    async def until(self, check: Callable[[list[BaseException | None]], bool], timeout: float = 30) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: check(self.ends))


def failed(ends: list[BaseException | None]) -> int:
    trailing = 0
    for outcome in reversed(ends):
        if not isinstance(outcome, DatabaseUnavailable):
            break
        trailing += 1
    return trailing


async def test_each_loop_says_once_that_the_database_went_and_once_that_it_is_back(tg, database, caplog):
    from bot.app import App
    from bot.config import load_settings

    db, away = database
    settings = load_settings(
        bot_token=TOKEN, telegram_api_url=tg.base_url, redis_prefix=f"nobat-test-{uuid.uuid4().hex[:8]}",
        worker_interval_seconds=0.05, outbox={"poll_seconds": 0.05},
        database=TIMEOUTS,
    )
    app = await App.create(settings, db=db)
    loops = {"workers": app.workers, "outbox": app.outbox}
    rounds = {name: Rounds(loop) for name, loop in loops.items()}
    caplog.set_level(logging.INFO, logger="bot.loops.repeating")
    await app.start(polling_timeout=1)
    try:
        for name in loops:
            await rounds[name].until(lambda ends: ends and ends[-1] is None)
        async with away():
            for name in loops:
                await rounds[name].until(lambda ends: failed(ends) >= ROUNDS_AWAY)
        for name in loops:
            await rounds[name].until(lambda ends: ends[-1] is None)
    finally:
        with contextlib.suppress(Exception):
            await app.stop()

    assert not [r for r in caplog.records if r.exc_info], "no traceback: the database away is no fault of the code"
    for name, loop in loops.items():
        said = [(r.levelname, r.getMessage()) for r in caplog.records
                if r.name == "bot.loops.repeating" and r.getMessage().startswith(f"{loop.name}:")]
        assert [level for level, _ in said] == ["WARNING", "INFO"], (name, said)
        assert "the database is unavailable" in said[0][1] and "answers again" in said[1][1]
