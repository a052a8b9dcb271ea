"""How updates reach a bot: getUpdates keeps what is not confirmed, a webhook gets what it answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from local_bot_api import BotAPIServer
from local_bot_api.webhook import SECRET_HEADER

pytestmark = pytest.mark.asyncio


class Receiver:
    """A bot's web server as the webhook sees it: records every post, answers as `answer` says."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict, str | None]] = []  # (update, secret header)
        self.active = 0
        self.most_active = 0
        self.answer: Callable[[dict], Awaitable[web.Response]] = self.ok
        self.url = ""
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    @staticmethod
    async def ok(update: dict) -> web.Response:
        return web.json_response({})

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self.url

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.posts.append((update, request.headers.get(SECRET_HEADER)))
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        async with self._changed:
            self._changed.notify_all()
        try:
            return await self.answer(update)
        finally:
            self.active -= 1

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(condition), timeout)

    def texts(self) -> list[str]:
        return [update["message"]["text"] for update, _ in self.posts]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    instance = Receiver()
    await instance.start()
    yield instance
    await instance.stop()


async def _get_updates(http: aiohttp.ClientSession, server: BotAPIServer, **params: int) -> list[int]:
    async with http.post(f"{server.base_url}/bot{server.token}/getUpdates", data={**params, "timeout": 0}) as answer:
        return [u["update_id"] for u in (await answer.json())["result"]]


async def test_an_update_is_forgotten_only_when_a_later_offset_passes_it(server: BotAPIServer) -> None:
    driver = server.user(101)
    for text in ("one", "two", "three"):
        await driver.send(text, wait=False)
    async with aiohttp.ClientSession() as http:
        first, second, third = await _get_updates(http, server)
        # A poller that restarts knows no offset: it gets again all that was not confirmed.
        assert await _get_updates(http, server) == [first, second, third]
        assert await _get_updates(http, server, offset=second) == [second, third]  # confirms the first
        assert await _get_updates(http, server) == [second, third]
        assert await _get_updates(http, server, offset=third + 1) == []
        assert server.pending_updates == []


async def test_a_webhook_gets_each_update_with_its_secret_and_polling_is_refused(
    server: BotAPIServer, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook(receiver.url, secret_token="s3cret_Token-1", max_connections=5)
    driver = server.user(102)
    await driver.send("hello", wait=False)
    await server.wait_until(lambda: bool(server.webhook.delivered))

    assert receiver.posts[0][0]["message"]["text"] == "hello"
    assert receiver.posts[0][1] == "s3cret_Token-1"
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections, info.pending_update_count) == (receiver.url, 5, 0)
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()

    # Back to polling: what arrives now waits for getUpdates.
    await bot.delete_webhook()
    await driver.send("polled", wait=False)
    assert [u.message.text for u in await bot.get_updates()] == ["polled"]


@pytest.mark.parametrize(("url", "secret", "refusal"), [
    ("https://example.com/hook", None, "delivers only to 127.0.0.1"),
    ("ftp://127.0.0.1/hook", None, "An HTTPS URL must be provided"),
    ("http://localhost:8443/hook", "not secret!", "secret token contains unallowed characters"),
])
async def test_a_webhook_this_server_cannot_serve_is_refused(bot: Bot, url: str, secret: str | None,
                                                             refusal: str) -> None:
    with pytest.raises(TelegramBadRequest, match=refusal):
        await bot.set_webhook(url, secret_token=secret)


async def test_a_failed_or_unanswered_post_is_posted_again_until_answered(
    server: BotAPIServer, bot: Bot, receiver: Receiver
) -> None:
    server.webhook.retry_delay = 0.01
    server.webhook.timeout = 0.2
    answers = iter([web.Response(status=500), None, web.json_response({})])  # None: no answer in time
    never = asyncio.Event()

    async def answer(update: dict) -> web.Response:
        response = next(answers)
        if response is None:
            await never.wait()
        return response

    receiver.answer = answer
    await bot.set_webhook(receiver.url)
    await server.user(103).send("retry me", wait=False)

    await server.wait_until(lambda: bool(server.webhook.delivered), timeout=10)
    assert receiver.texts() == ["retry me"] * 3
    assert server.pending_updates == []
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Read timeout expired"


async def test_updates_wait_for_a_webhook_that_is_down_and_reach_it_when_it_is_back(
    server: BotAPIServer, bot: Bot, receiver: Receiver
) -> None:
    server.webhook.retry_delay = 0.01
    await receiver.stop()  # its port is free: nobody listens
    await bot.set_webhook(receiver.url)
    await server.user(104).send("are you there?", wait=False)
    await server.wait_until(lambda: server.webhook.last_error is not None, timeout=10)
    assert (await bot.get_webhook_info()).last_error_message == "Connection refused"
    assert len(server.pending_updates) == 1

    await receiver.start(port=int(receiver.url.split(":")[2].split("/")[0]))
    await server.wait_until(lambda: bool(server.webhook.delivered), timeout=10)
    assert receiver.texts() == ["are you there?"]


async def test_no_more_than_max_connections_posts_at_once(server: BotAPIServer, bot: Bot,
                                                          receiver: Receiver) -> None:
    gate = asyncio.Event()

    async def answer(update: dict) -> web.Response:
        await gate.wait()
        return web.json_response({})

    receiver.answer = answer
    await bot.set_webhook(receiver.url, max_connections=3)
    driver = server.user(105)
    for i in range(10):
        await driver.send(f"message {i}", wait=False)
    await receiver.wait_until(lambda: receiver.active == 3)
    assert (await bot.get_webhook_info()).pending_update_count == 10, "none dropped before it is answered"

    gate.set()
    await server.wait_until(lambda: len(server.webhook.delivered) == 10, timeout=10)
    assert receiver.most_active == 3
    assert sorted(receiver.texts()) == sorted(f"message {i}" for i in range(10))
