"""Bot settings and the wire protocol: commands, encodings, error answers, long polling, tokens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from local_bot_api import BotAPIServer

pytestmark = pytest.mark.asyncio


async def test_commands_are_stored_per_scope_and_language(server: BotAPIServer, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands([BotCommand(command="start", description="شروع")], language_code="fa")
    await bot.set_my_commands(
        [BotCommand(command="queue", description="Очередь")], scope=BotCommandScopeAllPrivateChats(), language_code="ru"
    )
    assert server.commands[("default", "")] == [{"command": "start", "description": "Start"}]
    assert server.commands[("default", "fa")] == [{"command": "start", "description": "شروع"}]
    assert server.commands[("all_private_chats", "ru")] == [{"command": "queue", "description": "Очередь"}]
    assert [c.description for c in await bot.get_my_commands(language_code="fa")] == ["شروع"]
    await bot.delete_my_commands(language_code="fa")
    assert ("default", "fa") not in server.commands
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start Now", description="x")])


async def test_descriptions_are_stored_per_language_within_telegrams_lengths(server: BotAPIServer, bot: Bot) -> None:
    await bot.set_my_description("Очередь на границе", language_code="ru")
    await bot.set_my_short_description("x" * 120)
    assert (await bot.get_my_description(language_code="ru")).description == "Очередь на границе"
    assert (await bot.get_my_description(language_code="kk")).description == "", "no fallback was set"
    assert (await bot.get_my_short_description(language_code="fa")).short_description == "x" * 120
    with pytest.raises(TelegramBadRequest, match="DESCRIPTION_INVALID"):
        await bot.set_my_description("x" * 513)
    with pytest.raises(TelegramBadRequest, match="SHORT_DESCRIPTION_INVALID"):
        await bot.set_my_short_description("x" * 121)


async def test_wire_protocol_errors_json_bodies_and_long_polling(server: BotAPIServer) -> None:
    driver = server.user(101)
    api = f"{server.base_url}/bot{server.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}/bot1:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.get(f"{api}/sendCarrierPigeon") as response:
            assert (response.status, (await response.json())["description"]) == (404, "Not Found")
        async with http.post(f"{api}/sendMessage", json={"chat_id": driver.chat_id, "text": "json body"}) as response:
            assert (await response.json())["result"]["text"] == "json body"
        async with http.get(f"{api}/sendMessage", params={"chat_id": driver.chat_id}) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: message text is empty"

        # A long poll returns as soon as an update arrives, and the update stays until confirmed.
        poll = asyncio.create_task(http.post(f"{api}/getUpdates", data={"timeout": "20"}))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await driver.send("wake up", wait=False)
        updates = (await (await poll).json())["result"]
        assert time.monotonic() - started < 1.0
        assert [u["message"]["text"] for u in updates] == ["wake up"]
        assert "entities" not in updates[0]["message"]  # plain text: no entities field at all
        async with http.post(f"{api}/getUpdates", data={"offset": str(updates[0]["update_id"] + 1)}) as response:
            assert (await response.json())["result"] == []

        # Stopping the server ends a pending long poll right away.
        poll = asyncio.create_task(http.post(f"{api}/getUpdates", data={"timeout": "30"}))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await server.stop()
        assert (await (await poll).json())["result"] == []
        assert time.monotonic() - started < 2.0


async def test_wrong_token_is_unauthorized_for_aiogram(make_bot: Callable[..., Bot]) -> None:
    intruder = make_bot("999:OTHER")
    with pytest.raises(TelegramUnauthorizedError):
        await intruder.get_me()
