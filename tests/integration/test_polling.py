"""Polling loses no update (bot/polling.py): each is kept in the database before Telegram is told to
forget it, and handled by the next process if this one dies; on the local Bot API server, with a bot
whose "slow" message takes as long as the test says."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from aiogram.utils.backoff import BackoffConfig

from bot.polling import Poller
from local_bot_api import BotAPIServer
from services.kernel.clock import SystemClock
from services.storage.inbox import Inbox
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
async def polling(tg, bot: SlowBot, inbox: Inbox, *, telegram: Bot | None = None, **options):
    telegram = telegram or tg.create_bot()
    poller = Poller(telegram, bot.dispatcher, inbox, timeout=1, allowed_updates=["message"], **options)
    running = asyncio.create_task(poller.run())
    try:
        yield poller, running
    finally:
        bot.release()
        await poller.stop()
        await running
        await telegram.session.close()


@pytest.fixture
def inbox(db):
    return Inbox(db, SystemClock())


def _pending(tg) -> list[str]:
    return [update["message"]["text"] for update in tg.pending_updates]


async def _kept(inbox: Inbox) -> list[str]:
    return [json.loads(payload)["message"]["text"] for payload in (await inbox.unhandled()).values()]


async def test_a_slow_handler_holds_back_nobody_and_its_update_waits_in_the_inbox(tg, inbox):
    bot, driver, other = SlowBot(), tg.user(1), tg.user(11)
    async with polling(tg, bot, inbox):
        await driver.send("slow", wait=False)
        # Answered while "slow" is still running: updates are not handled one by one.
        assert (await other.send("after")).text == "got after"
        # Telegram has let go of both: "slow" is kept in the database until it is handled.
        await tg.wait_until(lambda: not tg.pending_updates)
        assert "slow" in await _kept(inbox)
        assert bot.started == ["slow", "after"]

        bot.release()
        await driver.wait_for(lambda m: m.text == "got slow")
    assert await _kept(inbox) == [], "handled updates leave the inbox"


async def test_the_next_process_handles_what_a_dead_one_kept(tg, inbox):
    dying, driver = SlowBot(), tg.user(2)
    telegram = tg.create_bot()
    poller = Poller(telegram, dying.dispatcher, inbox, timeout=1, allowed_updates=["message"])
    running = asyncio.create_task(poller.run())
    await driver.send("slow", wait=False)
    await tg.wait_until(lambda: dying.started == ["slow"])
    await tg.wait_until(lambda: not tg.pending_updates)  # Telegram will not send it again
    # The process dies: nothing finishes, nothing is cleaned up.
    running.cancel()
    for task in list(poller._in_flight.values()):
        task.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await telegram.session.close()
    assert await _kept(inbox) == ["slow"]

    fresh = SlowBot()
    fresh.release()
    async with polling(tg, fresh, inbox):
        assert (await driver.wait_for(lambda m: m.text == "got slow")).text == "got slow"
        assert (await driver.send("next")).text == "got next"
    assert fresh.started == ["slow", "next"]
    assert await _kept(inbox) == []


async def test_stopping_finishes_the_updates_in_flight(tg, inbox):
    bot, driver = SlowBot(), tg.user(3)
    async with polling(tg, bot, inbox) as (poller, running):
        await driver.send("slow", wait=False)
        await tg.wait_until(lambda: bot.started == ["slow"])
        await poller.stop()
        await driver.send("too late", wait=False)  # arrives while stopping: left for the next process
        bot.release()
        await running

        assert driver.last_message().text == "got slow"
        assert _pending(tg) == ["too late"]
        assert bot.started == ["slow"]
        assert await _kept(inbox) == []


async def test_an_update_whose_handler_failed_is_tried_once(tg, inbox, caplog):
    bot, driver = SlowBot(), tg.user(4)
    async with polling(tg, bot, inbox):
        with caplog.at_level(logging.ERROR, logger="bot.polling"):
            await driver.send("broken", wait=False)
            assert (await driver.send("next")).text == "got next"
            await tg.wait_until(lambda: not tg.pending_updates)
    assert bot.started == ["broken", "next"], "tried once, not over and over"
    assert "not tried again" in caplog.text
    assert await _kept(inbox) == []


async def test_an_update_that_cannot_be_read_is_skipped_and_logged_without_what_it_says(tg, inbox, caplog):
    """A kept update that aiogram no longer reads (here its chat has no type) would fail at every
    start: it leaves the inbox, and the log says where it is wrong, not the driver's name or words."""
    unreadable = {"update_id": 90, "message": {
        "message_id": 1, "date": 1_700_000_000, "chat": {"id": 4, "first_name": "Zhanargul"},
        "from": {"id": 4, "is_bot": False, "first_name": "Zhanargul", "username": "zhanargul_trucks"},
        "text": "call me on +77015550199"}}
    await inbox.keep({90: json.dumps(unreadable)}, set())
    bot = SlowBot()
    with caplog.at_level(logging.INFO):
        async with polling(tg, bot, inbox):
            await tg.wait_until(lambda: "cannot be read" in caplog.text)
    assert "update 90 cannot be read and is skipped: message.chat.type: missing" in caplog.text
    for private in ("Zhanargul", "zhanargul_trucks", "call me", "7701555"):
        assert private not in caplog.text, private
    assert bot.started == [] and await inbox.unhandled() == {}


async def test_with_the_database_away_updates_are_still_answered_and_stay_with_telegram_until_done(tg, inbox,
                                                                                                 monkeypatch):
    bot, driver, other = SlowBot(), tg.user(5), tg.user(15)
    keep, refused = inbox.keep, []
    away = True

    async def database_away(updates, handled=()):
        if away:
            refused.append(list(updates))
            raise ConnectionError("the database went away")
        await keep(updates, handled)

    monkeypatch.setattr(inbox, "keep", database_away)
    async with polling(tg, bot, inbox):
        # Answered though the database cannot keep anything: a frozen database must not silence the bot.
        assert (await driver.send("hello")).text == "got hello"
        await driver.send("slow", wait=False)
        await tg.wait_until(lambda: "slow" in bot.started)
        assert (await other.send("after")).text == "got after"
        # Kept nowhere else, "slow" stays with Telegram while it runs; "hello" is done and let go.
        await tg.wait_until(lambda: len(tg.calls("getUpdates")) > 4)
        assert _pending(tg)[:1] == ["slow"]
        assert "hello" not in _pending(tg)

        away = False
        bot.release()
        await driver.wait_for(lambda m: m.text == "got slow")
        await tg.wait_until(lambda: not tg.pending_updates)
        assert (await driver.send("back")).text == "got back"
    assert refused
    assert bot.started == ["hello", "slow", "after", "back"], "each handled once"
    assert await _kept(inbox) == []


async def test_polling_outlives_a_bot_api_server_that_is_down_for_a_while(inbox):
    port = free_port()
    telegram = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}")))
    failed = asyncio.Event()

    class FailureSeen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("polling failed"):
                failed.set()

    seen = FailureSeen()
    logging.getLogger("bot.polling").addHandler(seen)
    tg = BotAPIServer(TOKEN)
    try:
        quick = BackoffConfig(min_delay=0.01, max_delay=0.05, factor=1.5, jitter=0.0)
        async with polling(tg, SlowBot(), inbox, telegram=telegram, backoff=quick):
            await asyncio.wait_for(failed.wait(), 10)  # nobody listens yet
            await tg.start(port=port)
            assert (await tg.user(5).send("hello")).text == "got hello"
    finally:
        logging.getLogger("bot.polling").removeHandler(seen)
        await tg.stop()
