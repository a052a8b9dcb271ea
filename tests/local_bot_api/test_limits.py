"""Flood limits: per chat, per group, for the whole bot, and the simulated pace of people."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from local_bot_api import BotAPIServer

if TYPE_CHECKING:
    from tests.local_bot_api.conftest import FrozenClock

pytestmark = pytest.mark.asyncio


async def test_group_messages_and_group_rate_limit(
    server: BotAPIServer, bot: Bot, running: list[Any], frozen_clock: FrozenClock
) -> None:
    group = server.group(-1001234567890, title="Agents")
    agent = server.user(101)
    reply = await agent.send_to_group(group, "anyone?")
    assert reply is not None and reply.text == "echo: anyone?" and reply.raw["chat"]["type"] == "supergroup"
    assert reply.raw["from"]["is_bot"] and group.messages[0].raw["from"]["id"] == agent.user_id

    for _ in range(4):  # the burst of 5 minus the echo above
        await bot.send_message(group.chat_id, "announcement")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.chat_id, "one too many")
    assert caught.value.retry_after == 3  # 20 messages a minute: one every 3 s


async def test_five_messages_at_once_to_one_chat_hit_the_chat_limit(
    server: BotAPIServer, bot: Bot, frozen_clock: FrozenClock
) -> None:
    driver = server.user(101)
    results = await asyncio.gather(
        *(bot.send_message(driver.chat_id, f"update {i}") for i in range(5)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(refused) == 2 and [r.retry_after for r in refused] == [1, 1]  # the chat's next token, a second away
    assert "Too Many Requests: retry after 1" in refused[0].message
    assert server.limit_violations == 2
    assert len(driver.bot_messages()) == 3  # refused messages are not delivered

    frozen_clock.now += 1.0  # one more token in the chat's bucket
    await bot.send_message(driver.chat_id, "after waiting")
    assert len(driver.bot_messages()) == 4


async def test_people_take_time_between_actions(
    server: BotAPIServer, running: list[Any], frozen_clock: FrozenClock
) -> None:
    driver = server.user(101)
    for i in range(6):  # a test types faster than any person; simulated think time absorbs that
        assert (await driver.send(f"m{i}")).text == f"echo: m{i}"
    assert server.limit_violations == 0

    # Machine-speed people: the chat's bucket (3 at most, one left after each reply) runs dry.
    server.user_think_time = 0
    replies = [await driver.send(f"fast {i}") for i in range(2)]
    assert [r.text for r in replies] == ["echo: fast 0", "echo: fast 1"]
    await driver.send("fast 2", wait=False)
    await server.wait_until(lambda: server.limit_violations == 1)
    assert server.errors[-1][2:] == (429, "Too Many Requests: retry after 1")
    assert await server.wait_idle()
    assert [m.text for m in driver.bot_messages()][-2:] == ["echo: fast 0", "echo: fast 1"], "the refused reply is lost"


async def test_one_person_at_machine_speed_while_the_others_keep_a_human_pace(
    server: BotAPIServer, running: list[Any], frozen_clock: FrozenClock
) -> None:
    script, driver = server.user(101), server.user(102)
    script.think_time = 0
    for i in range(6):
        assert (await driver.send(f"m{i}")).text == f"echo: m{i}"
    replies = [await script.send(f"fast {i}") for i in range(3)]
    assert [r.text for r in replies] == ["echo: fast 0", "echo: fast 1", "echo: fast 2"]
    await script.send("fast 3", wait=False)
    await server.wait_until(lambda: server.limit_violations == 1)
    assert await server.wait_idle()
    assert [m.text for m in script.bot_messages()][-1] == "echo: fast 2", "the refused reply is lost"
    assert server.limit_violations == 1, "the human pace of the other person met no limit"


async def test_global_rate_limit(server: BotAPIServer, bot: Bot, frozen_clock: FrozenClock) -> None:
    server.limits.global_per_s = 10
    drivers = [server.user(1000 + i) for i in range(15)]
    results = await asyncio.gather(
        *(bot.send_message(d.chat_id, "queue moved") for d in drivers), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(refused) == 5 and {r.retry_after for r in refused} == {1}
    assert server.limit_violations == 5

    server.limits.enabled = False
    await asyncio.gather(*(bot.send_message(d.chat_id, "unlimited") for d in drivers))


async def test_a_failure_can_be_injected_for_the_next_calls_of_a_method(server: BotAPIServer, bot: Bot) -> None:
    from aiogram.exceptions import TelegramServerError

    user = server.user(102)
    server.fail_next("sendMessage", times=2, code=502, description="Bad Gateway")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(user.user_id, "hello")
    assert user.bot_messages() == []
    await bot.send_message(user.user_id, "hello")
    assert [m.text for m in user.bot_messages()] == ["hello"]
    assert [e[2] for e in server.errors] == [502, 502]
