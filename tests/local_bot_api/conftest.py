"""A running local Bot API server, an aiogram Bot pointed at it, and the sample bot polling it.

Every test goes over HTTP with aiogram's own AiohttpSession, so what is checked is what aiogram
surfaces: its exception classes and Telegram's descriptions.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from local_bot_api import BotAPIServer
from tests.local_bot_api.sample_bot import sample_dispatcher


@pytest_asyncio.fixture
async def server() -> AsyncIterator[BotAPIServer]:
    instance = BotAPIServer()
    await instance.start()
    yield instance
    await instance.stop()


class LocalSession(AiohttpSession):
    """aiogram's real HTTP session, minus the 250 ms pause its close() makes for SSL connections.

    Plain HTTP to localhost has nothing to wait for, and that pause would otherwise dominate the
    run time of these tests.  Requests go through AiohttpSession unchanged.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest_asyncio.fixture
async def make_bot(server: BotAPIServer) -> AsyncIterator[Callable[..., Bot]]:
    """Makes aiogram Bots talking to the server (its token unless told otherwise), closed after the test."""
    made: list[Bot] = []

    def make(token: str | None = None, **bot_kwargs: Any) -> Bot:
        session = LocalSession(api=TelegramAPIServer.from_base(server.base_url))
        made.append(Bot(token or server.token, session=session, **bot_kwargs))
        return made[-1]

    yield make
    for instance in made:
        await instance.session.close()


@pytest.fixture
def bot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot(default=DefaultBotProperties(parse_mode="HTML"))


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def frozen_clock(server: BotAPIServer) -> FrozenClock:
    """Stands in for the server's monotonic clock so rate-limit tests need no sleeping."""
    clock = FrozenClock()
    server.clock = clock
    return clock


@asynccontextmanager
async def polling(server: BotAPIServer, bot: Bot, dp: Dispatcher) -> AsyncIterator[None]:
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        await server.wait_until(lambda: bool(server.calls("getUpdates")))  # polling has started
        yield
    finally:
        await dp.stop_polling()
        await task


@pytest_asyncio.fixture
async def running(server: BotAPIServer, bot: Bot) -> AsyncIterator[list[Any]]:
    """The sample bot, polling the server; yields the list its handlers record events in."""
    events: list[Any] = []
    async with polling(server, bot, sample_dispatcher(events)):
        yield events
