"""Conversations: simulated people talking to a bot that polls the server, and what each side sees."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot

from local_bot_api import BotAPIServer, CallbackAnswer
from tests.local_bot_api.sample_bot import keyboard

pytestmark = pytest.mark.asyncio


async def test_echo_conversation_and_message_ids(server: BotAPIServer, bot: Bot, running: list[Any]) -> None:
    driver = server.user(101, first_name="Ali")
    other = server.user(202)

    welcome = await driver.send("/start")
    assert welcome is not None and welcome.from_bot
    assert welcome.text == "Welcome, Ali!"
    assert welcome.html == "Welcome, <b>Ali</b>!"
    assert welcome.entities == [{"type": "bold", "offset": 9, "length": 3}]
    assert running[0] == ("start", "bot_command")  # Telegram marks the command word

    reply = await driver.send("hello")
    assert reply is not None and reply.text == "echo: hello"
    # One sequence per chat, shared by the user's and the bot's messages.
    assert [m.message_id for m in driver.messages] == [1, 2, 3, 4]
    assert [m.from_bot for m in driver.messages] == [False, True, False, True]

    assert (await other.send("hi")).message_id == 2
    direct = await bot.send_message(driver.chat_id, "direct")
    assert direct.message_id == 5 and direct.chat.type == "private" and direct.from_user.is_bot
    assert server.calls("sendMessage")[-1]["chat_id"] == driver.chat_id  # the log decodes numbers


async def test_tap_returns_callback_answer_and_edit_removes_keyboard(server: BotAPIServer, running: list[Any]) -> None:
    driver = server.user(101)
    welcome = await driver.send("/start")
    assert welcome.buttons == [[("Yes", "yes"), ("No", "no")], [("Twice", "twice")]]

    alert = await driver.tap("no")  # case-insensitive substring match ("No")
    assert alert == CallbackAnswer("Are you sure?", True, query_id=alert.query_id, data="no")
    assert welcome.button_texts == ["Yes", "No", "Twice"]  # no edit happened

    answer = await driver.tap("Yes")
    assert answer is not None and answer.text == "Saved" and not answer.show_alert
    assert welcome.text == "You said yes" and welcome.edited and welcome.edit_count == 1
    assert welcome.reply_markup is None and welcome.buttons == []  # edited without reply_markup
    assert driver.callback_answers == [alert, answer]

    with pytest.raises(LookupError):
        await driver.tap("Yes")  # the keyboard is gone


async def test_answering_a_query_twice_is_refused(server: BotAPIServer, running: list[Any]) -> None:
    driver = server.user(101)
    await driver.send("/start")
    assert (await driver.tap(callback_data="twice")).text == "first"
    await server.wait_idle()
    assert ("twice", "Bad Request: query is too old and response timeout expired or query ID is invalid") in running


async def test_forged_callback_data_reaches_the_bot(server: BotAPIServer, running: list[Any]) -> None:
    driver = server.user(101)
    welcome = await driver.send("/start")

    answer = await driver.tap_data("admin:delete:all", welcome.message_id)
    assert answer is not None and answer.text == "Unknown action"
    assert ("callback", "admin:delete:all", "Message", welcome.message_id) in running

    await driver.tap_data("queue:release:7", 999)  # a message that never existed
    assert ("callback", "queue:release:7", "InaccessibleMessage", 999) in running


async def test_buttons_of_a_group_message_and_of_an_inline_message_are_tapped_as_on_telegram(
    server: BotAPIServer, bot: Bot, running: list[Any]
) -> None:
    group, agent = server.group(-1001234567890, title="Agents"), server.user(101)
    posted = await bot.send_message(group.chat_id, "Who takes it?", reply_markup=keyboard([("Me", "take:7")]))
    with pytest.raises(LookupError):
        await agent.tap("Me")  # not in the private chat
    answer = await agent.tap("Me", group=group)
    assert answer is not None and answer.text == "group"
    assert ("group tap", "take:7", agent.user_id, group.chat_id, posted.message_id) in running
    await agent.tap_data("take:8", posted.message_id, group=group)
    assert ("group tap", "take:8", agent.user_id, group.chat_id, posted.message_id) in running

    answer = await agent.tap_inline("vote:1", "AgAAAB4lAQB5DQAAAAAAAAAAAAA")
    assert answer is not None and answer.text == "inline"
    assert ("inline tap", "vote:1", "AgAAAB4lAQB5DQAAAAAAAAAAAAA", None) in running


async def test_many_people_tapping_at_once_are_all_answered(
    server: BotAPIServer, bot: Bot, running: list[Any]
) -> None:
    drivers = [server.user(300 + i) for i in range(25)]
    for driver in drivers:
        await bot.send_message(driver.chat_id, "Sure?", reply_markup=keyboard([("No", "no")]))
    # Each person's think time is their own: 25 simultaneous taps neither expire each other's
    # callback queries nor refill the global limit.
    answers = await asyncio.gather(*(driver.tap("No") for driver in drivers))
    assert [a.text for a in answers] == ["Are you sure?"] * 25


async def test_reply_keyboard_contact_button(server: BotAPIServer, running: list[Any]) -> None:
    driver = server.user(101)
    prompt = await driver.send("/phone")
    assert prompt.reply_buttons == ["📱 Share phone", "Cancel"]

    thanks = await driver.tap("share phone")
    assert thanks is not None and thanks.text == "Thanks"
    assert ("contact", driver.user_id, driver.phone_number) in running
    shared = driver.messages[-2]
    assert shared.kind == "contact" and shared.raw["contact"]["user_id"] == driver.user_id

    with pytest.raises(LookupError):
        await driver.tap("Cancel")  # ReplyKeyboardRemove took the keyboard away


async def test_media_and_foreign_contact_arrive_with_telegram_fields(server: BotAPIServer, running: list[Any]) -> None:
    driver = server.user(101)
    assert (await driver.send_sticker("🚚")).text == "got sticker"
    assert (await driver.send_photo("my truck")).text == "got photo"
    assert (await driver.send_location(44.2, 80.4)).text == "got location"
    await driver.send_contact("+77011234567", own=False)

    sticker, photo, location = (event[2] for event in running if event[0] == "media")
    assert sticker.sticker.emoji == "🚚" and sticker.sticker.type == "regular" and not sticker.sticker.is_animated
    assert len(photo.photo) >= 2 and photo.photo[-1].width == 1280 and photo.caption == "my truck"
    assert (location.location.latitude, location.location.longitude) == (44.2, 80.4)
    assert ("contact", driver.user_id + 1_000_000_000, "+77011234567") in running


async def test_wait_for_sees_edits_and_dumps_the_chat_on_timeout(server: BotAPIServer, running: list[Any]) -> None:
    driver = server.user(101)
    first = await driver.send("/slot")
    assert first.text == "Searching…"
    found = await driver.wait_for(lambda m: "14:30" in m.text_digits_latin)
    assert found is first and found.edited

    with pytest.raises(TimeoutError, match="Your slot"):
        await driver.wait_for(lambda m: "never" in m.text, timeout=0.05)
    assert await driver.send("ignored", wait=False) is None
    assert driver.last_message(from_bot=False).text == "ignored"
