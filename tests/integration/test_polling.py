"""Polling confirms an update to Telegram only once its handler has finished (bot/polling.py), on the
local Bot API server, with a bot whose "slow" message takes as long as the test says."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.utils.backoff import BackoffConfig

from bot.polling import Poller
from local_bot_api import BotAPIServer
from tests.conftest import TOKEN
from tests.processes import free_port


class SlowBot:
    """Answers every message with "got <text>"; a message "slow" waits until `release()`."""

    def __init__(self) -> None:
        self.dispatcher = Dispatcher()
        self.started: list[str] = []
        self._gate = asyncio.Event()
        self.dispatcher.message.register(self._on_message)

    async def _on_message(self, message: Message) -> None:
        self.started.append(message.text)
        if message.text == "slow":
            await self._gate.wait()
        if message.text == "broken":
            raise RuntimeError("a fault in a handler")
        await message.answer(f"got {message.text}")

    def release(self) -> None:
        self._gate.set()


@asynccontextmanager
async def polling(tg, bot: SlowBot, *, telegram: Bot | None = None, **options):
    telegram = telegram or tg.create_bot()
    poller = Poller(telegram, bot.dispatcher, timeout=1, allowed_updates=["message"], **options)
    running = asyncio.create_task(poller.run())
    try:
        yield poller, running
    finally:
        bot.release()
        await poller.stop()
        await running
        await telegram.session.close()


def _pending(tg) -> list[str]:
    return [update["message"]["text"] for update in tg.pending_updates]


async def test_an_update_stays_with_telegram_until_its_handler_finished(tg):
    bot, driver = SlowBot(), tg.user(1)
    async with polling(tg, bot):
        await driver.send("first")
        await driver.send("slow", wait=False)
        # Handled while "slow" is still running: a batch is not handled one by one.
        assert (await driver.send("after")).text == "got after"

        # Confirmed: "first". Not confirmed: "slow", and "after", which is behind it in the queue.
        assert _pending(tg) == ["slow", "after"]
        slow_id = tg.pending_updates[0]["update_id"]
        # Asked for new updates, getUpdates returns "slow" again, and its handler is not started twice.
        await tg.wait_until(lambda: len([c for c in tg.calls("getUpdates") if c.get("offset") == slow_id]) >= 3)
        assert bot.started == ["first", "slow", "after"]

        bot.release()
        await driver.wait_for(lambda m: m.text == "got slow")
        await tg.wait_until(lambda: not tg.pending_updates)


async def test_stopping_finishes_the_updates_in_flight_and_confirms_them(tg):
    bot, driver = SlowBot(), tg.user(2)
    async with polling(tg, bot) as (poller, running):
        await driver.send("slow", wait=False)
        await tg.wait_until(lambda: bot.started == ["slow"])
        await poller.stop()
        await driver.send("too late", wait=False)  # arrives while stopping: left for the next process
        bot.release()
        await running

        assert driver.last_message().text == "got slow"
        assert _pending(tg) == ["too late"]
        assert bot.started == ["slow"]


async def test_an_update_whose_handler_failed_is_confirmed(tg, caplog):
    bot, driver = SlowBot(), tg.user(3)
    async with polling(tg, bot):
        with caplog.at_level(logging.ERROR, logger="bot.polling"):
            await driver.send("broken", wait=False)
            assert (await driver.send("next")).text == "got next"
            await tg.wait_until(lambda: not tg.pending_updates)
    assert bot.started == ["broken", "next"], "tried once, not over and over"
    assert "confirmed anyway" in caplog.text


async def test_a_handler_stuck_for_too_long_no_longer_holds_back_the_updates_after_it(tg):
    bot, driver = SlowBot(), tg.user(4)
    async with polling(tg, bot, slow_after=0.2):
        await driver.send("slow", wait=False)
        await driver.send("after")
        await tg.wait_until(lambda: not tg.pending_updates)  # "slow" too, though it is still running
        assert bot.started == ["slow", "after"]
        assert driver.last_message().text == "got after"


async def test_polling_outlives_a_bot_api_server_that_is_down_for_a_while():
    port = free_port()
    telegram = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}")))
    failed = asyncio.Event()

    class FailureSeen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("getUpdates failed"):
                failed.set()

    seen = FailureSeen()
    logging.getLogger("bot.polling").addHandler(seen)
    tg = BotAPIServer(TOKEN)
    try:
        quick = BackoffConfig(min_delay=0.01, max_delay=0.05, factor=1.5, jitter=0.0)
        async with polling(tg, SlowBot(), telegram=telegram, backoff=quick):
            await asyncio.wait_for(failed.wait(), 10)  # nobody listens yet
            await tg.start(port=port)
            assert (await tg.user(5).send("hello")).text == "got hello"
    finally:
        logging.getLogger("bot.polling").removeHandler(seen)
        await tg.stop()
