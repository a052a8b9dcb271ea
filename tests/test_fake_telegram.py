"""Tests of the fake Telegram Bot API server, driven through aiogram's real Bot, session and Dispatcher.

The fake is only useful if it refuses what Telegram refuses and delivers what Telegram delivers,
so every test goes over HTTP with aiogram's own AiohttpSession and checks the exception classes
and descriptions aiogram surfaces.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.fake_telegram import CallbackAnswer, FakeTelegram, _EntityParseError, parse_html

pytestmark = pytest.mark.asyncio


# --------------------------------------------------------------------------------------------------
# Fixtures: a running fake, a bot pointed at it, and a small bot to talk to
# --------------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


class LocalSession(AiohttpSession):
    """aiogram's real HTTP session, minus the 250 ms pause its close() makes for SSL connections.

    Plain HTTP to localhost has nothing to wait for, and that pause would otherwise dominate the
    run time of this module.  Requests go through AiohttpSession unchanged.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    session = LocalSession(api=TelegramAPIServer.from_base(fake.base_url))
    instance = Bot(fake.token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    yield instance
    await instance.session.close()


class FrozenClock:
    """Stands in for the fake's monotonic clock so rate-limit tests need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def demo_dispatcher(events: list[Any]) -> Dispatcher:
    """A tiny bot exercising what Nobat does: commands, keyboards, edits, contacts, media."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        events.append(("start", message.entities[0].type if message.entities else None))
        markup = keyboard([("Yes", "yes"), ("No", "no")], [("Twice", "twice")])
        await message.answer(f"Welcome, <b>{message.from_user.first_name}</b>!", reply_markup=markup)

    @dp.message(Command("phone"))
    async def ask_phone(message: Message) -> None:
        markup = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📱 Share phone", request_contact=True)], [KeyboardButton(text="Cancel")]],
            resize_keyboard=True,
        )
        await message.answer("Please share your phone", reply_markup=markup)

    @dp.message(Command("slot"))
    async def slot(message: Message) -> None:
        sent = await message.answer("Searching…")
        await asyncio.sleep(0.01)
        await sent.edit_text("Your slot: \u2068۱۴:۳۰\u2069")

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        events.append(("contact", message.contact.user_id, message.contact.phone_number))
        await message.answer("Thanks", reply_markup=ReplyKeyboardRemove())

    @dp.message(F.sticker | F.photo | F.location)
    async def media(message: Message) -> None:
        events.append(("media", message.content_type, message))
        kind = "sticker" if message.sticker else "photo" if message.photo else "location"
        await message.answer(f"got {kind}")

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @dp.callback_query(F.data == "yes")
    async def yes(query: CallbackQuery) -> None:
        await query.message.edit_text("You said yes")  # no reply_markup: the keyboard goes away
        await query.answer("Saved")

    @dp.callback_query(F.data == "no")
    async def no(query: CallbackQuery) -> None:
        await query.answer("Are you sure?", show_alert=True)

    @dp.callback_query(F.data == "twice")
    async def twice(query: CallbackQuery) -> None:
        await query.answer("first")
        try:
            await query.answer("second")
        except TelegramBadRequest as error:
            events.append(("twice", error.message))

    @dp.callback_query()
    async def other(query: CallbackQuery) -> None:
        events.append(("callback", query.data, type(query.message).__name__, query.message.message_id))
        await query.answer("Unknown action")

    return dp


@asynccontextmanager
async def polling(fake: FakeTelegram, bot: Bot, dp: Dispatcher) -> AsyncIterator[None]:
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        await fake.wait_until(lambda: bool(fake.calls("getUpdates")))  # polling has started
        yield
    finally:
        await dp.stop_polling()
        await task


@pytest_asyncio.fixture
async def running(fake: FakeTelegram, bot: Bot) -> AsyncIterator[list[Any]]:
    """The demo bot, polling the fake; yields the list its handlers record events in."""
    events: list[Any] = []
    async with polling(fake, bot, demo_dispatcher(events)):
        yield events


# --------------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------------


async def test_echo_conversation_and_message_ids(fake: FakeTelegram, bot: Bot, running: list[Any]) -> None:
    driver = fake.user(101, first_name="Ali")
    other = fake.user(202)

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
    assert fake.calls("sendMessage")[-1]["chat_id"] == driver.chat_id  # the log decodes numbers


async def test_tap_returns_callback_answer_and_edit_removes_keyboard(fake: FakeTelegram, running: list[Any]) -> None:
    driver = fake.user(101)
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


async def test_answering_a_query_twice_is_refused(fake: FakeTelegram, running: list[Any]) -> None:
    driver = fake.user(101)
    await driver.send("/start")
    assert (await driver.tap(callback_data="twice")).text == "first"
    await fake.wait_idle()
    assert ("twice", "Bad Request: query is too old and response timeout expired or query ID is invalid") in running


async def test_forged_callback_data_reaches_the_bot(fake: FakeTelegram, running: list[Any]) -> None:
    driver = fake.user(101)
    welcome = await driver.send("/start")

    answer = await driver.tap_data("admin:delete:all", welcome.message_id)
    assert answer is not None and answer.text == "Unknown action"
    assert ("callback", "admin:delete:all", "Message", welcome.message_id) in running

    await driver.tap_data("queue:release:7", 999)  # a message that never existed
    assert ("callback", "queue:release:7", "InaccessibleMessage", 999) in running


async def test_many_people_tapping_at_once_are_all_answered(
    fake: FakeTelegram, bot: Bot, running: list[Any]
) -> None:
    drivers = [fake.user(300 + i) for i in range(25)]
    for driver in drivers:
        await bot.send_message(driver.chat_id, "Sure?", reply_markup=keyboard([("No", "no")]))
    # Each person's think time is their own: 25 simultaneous taps neither expire each other's
    # callback queries nor refill the global limit.
    answers = await asyncio.gather(*(driver.tap("No") for driver in drivers))
    assert [a.text for a in answers] == ["Are you sure?"] * 25


async def test_reply_keyboard_contact_button(fake: FakeTelegram, running: list[Any]) -> None:
    driver = fake.user(101)
    prompt = await driver.send("/phone")
    assert prompt.reply_buttons == ["📱 Share phone", "Cancel"]

    thanks = await driver.tap("share phone")
    assert thanks is not None and thanks.text == "Thanks"
    assert ("contact", driver.user_id, driver.phone_number) in running
    shared = driver.messages[-2]
    assert shared.kind == "contact" and shared.raw["contact"]["user_id"] == driver.user_id

    with pytest.raises(LookupError):
        await driver.tap("Cancel")  # ReplyKeyboardRemove took the keyboard away


async def test_media_and_foreign_contact_arrive_with_telegram_fields(fake: FakeTelegram, running: list[Any]) -> None:
    driver = fake.user(101)
    assert (await driver.send_sticker("🚚")).text == "got sticker"
    assert (await driver.send_photo("my truck")).text == "got photo"
    assert (await driver.send_location(44.2, 80.4)).text == "got location"
    await driver.send_contact("+77011234567", own=False)

    sticker, photo, location = (event[2] for event in running if event[0] == "media")
    assert sticker.sticker.emoji == "🚚" and sticker.sticker.type == "regular" and not sticker.sticker.is_animated
    assert len(photo.photo) >= 2 and photo.photo[-1].width == 1280 and photo.caption == "my truck"
    assert (location.location.latitude, location.location.longitude) == (44.2, 80.4)
    assert ("contact", driver.user_id + 1_000_000_000, "+77011234567") in running


async def test_wait_for_sees_edits_and_dumps_the_chat_on_timeout(fake: FakeTelegram, running: list[Any]) -> None:
    driver = fake.user(101)
    first = await driver.send("/slot")
    assert first.text == "Searching…"
    found = await driver.wait_for(lambda m: "14:30" in m.text_digits_latin)
    assert found is first and found.edited

    with pytest.raises(TimeoutError, match="Your slot"):
        await driver.wait_for(lambda m: "never" in m.text, timeout=0.05)
    assert await driver.send("ignored", wait=False) is None
    assert driver.last_message(from_bot=False).text == "ignored"


async def test_group_messages_and_group_rate_limit(fake: FakeTelegram, bot: Bot, running: list[Any]) -> None:
    fake.clock = FrozenClock()
    group = fake.group(-1001234567890, title="Agents")
    agent = fake.user(101)
    reply = await agent.send_to_group(group, "anyone?")
    assert reply is not None and reply.text == "echo: anyone?" and reply.raw["chat"]["type"] == "supergroup"
    assert reply.raw["from"]["is_bot"] and group.messages[0].raw["from"]["id"] == agent.user_id

    for _ in range(4):  # the burst of 5 minus the echo above
        await bot.send_message(group.chat_id, "announcement")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.chat_id, "one too many")
    assert caught.value.retry_after == 3  # 20 messages a minute: one every 3 s


# --------------------------------------------------------------------------------------------------
# Validation, answered as Telegram answers
# --------------------------------------------------------------------------------------------------


async def test_edit_keeps_keyboard_only_when_given_and_refuses_no_op_edits(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    markup = keyboard([("Book", "book:1")])
    sent = await bot.send_message(driver.chat_id, "Slot <b>1</b>", reply_markup=markup)
    message = driver.last_message()

    target = {"chat_id": driver.chat_id, "message_id": sent.message_id}
    edited = await bot.edit_message_text("Slot <b>2</b>", **target, reply_markup=markup)
    assert edited.reply_markup.model_dump() == markup.model_dump()
    assert message.buttons == [[("Book", "book:1")]]

    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new message content"):
        await bot.edit_message_text("Slot <b>2</b>", **target, reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(**target, reply_markup=markup)

    # The same text without reply_markup is a change: Telegram drops the inline keyboard.
    edited = await bot.edit_message_text("Slot <b>2</b>", **target)
    assert edited.reply_markup is None and message.buttons == [] and message.edit_count == 2
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Slot <b>2</b>", **target)


async def test_missing_messages_and_chats_are_refused(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text("x", chat_id=driver.chat_id, message_id=77)
    assert caught.value.message == "Bad Request: message to edit not found"

    sent = await bot.send_message(driver.chat_id, "bye")
    assert await bot.delete_message(driver.chat_id, sent.message_id)
    assert driver.messages[-1].deleted and driver.last_message() is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(driver.chat_id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=driver.chat_id, message_id=sent.message_id)

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(555, "who?")
    assert caught.value.message == "Bad Request: chat not found"


async def test_text_length_limit(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    await bot.send_message(driver.chat_id, "я" * 4096)
    await bot.send_message(driver.chat_id, "<b>" + "x" * 4096 + "</b>")  # the limit applies after parsing
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(driver.chat_id, "x" * 4097)
    assert caught.value.message == "Bad Request: message is too long"
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(driver.chat_id, "🙂" * 2049)  # 4098 UTF-16 code units
    assert len(driver.bot_messages()) == 2


async def test_callback_data_limit(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    await bot.send_message(driver.chat_id, "ok", reply_markup=keyboard([("A", "ж" * 32)]))  # 64 bytes
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(driver.chat_id, "too long", reply_markup=keyboard([("A", "ж" * 32 + "x")]))
    assert caught.value.message == "Bad Request: BUTTON_DATA_INVALID"
    with pytest.raises(TelegramBadRequest, match="text buttons are unallowed in the inline keyboard"):
        await bot.send_message(driver.chat_id, "empty", reply_markup=keyboard([("", "x")]))
    assert [m.text for m in driver.bot_messages()] == ["ok"]


@pytest.mark.parametrize(
    ("html", "description"),
    [
        ("<foo>bar</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_refused(fake: FakeTelegram, bot: Bot, html: str, description: str) -> None:
    driver = fake.user(101)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(driver.chat_id, html)
    assert caught.value.message == f"Bad Request: can't parse entities: {description}"
    assert driver.messages == []


async def test_html_parsing_matches_telegram() -> None:
    text, entities = parse_html('<b>Hi</b> 👋 <i>there</i> &amp; Tom &lt;3 & co <a href="https://t.me/x">link</a>')
    assert text == "Hi 👋 there & Tom <3 & co link"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 6, "length": 5},  # the emoji is two UTF-16 code units
        {"type": "text_link", "offset": 26, "length": 4, "url": "https://t.me/x"},
    ]
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><blockquote expandable>q</blockquote>'
    )
    assert text == "x = 1q"
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 5, "length": 1},
    ]
    with pytest.raises(_EntityParseError, match="Unexpected end tag at byte offset 0"):
        parse_html("</b>")


async def test_empty_text_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(driver.chat_id, "")
    with pytest.raises(TelegramBadRequest, match="text must be non-empty"):
        await bot.send_message(driver.chat_id, "<b> </b>\n")


async def test_blocked_user_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    sent = await bot.send_message(driver.chat_id, "hi")
    fake.block(driver.user_id)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(driver.chat_id, "still there?")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("edited", chat_id=driver.chat_id, message_id=sent.message_id)
    member_update = fake.pending_updates[-1]["my_chat_member"]
    assert member_update["new_chat_member"]["status"] == "kicked"


# --------------------------------------------------------------------------------------------------
# Rate limits
# --------------------------------------------------------------------------------------------------


async def test_five_messages_at_once_to_one_chat_hit_the_chat_limit(fake: FakeTelegram, bot: Bot) -> None:
    driver = fake.user(101)
    clock = FrozenClock()
    fake.clock = clock
    results = await asyncio.gather(
        *(bot.send_message(driver.chat_id, f"update {i}") for i in range(5)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(refused) == 2 and all(r.retry_after >= 1 for r in refused)
    assert "Too Many Requests: retry after 1" in refused[0].message
    assert fake.limit_violations == 2
    assert len(driver.bot_messages()) == 3  # refused messages are not delivered

    clock.now += 1.0  # one more token in the chat's bucket
    await bot.send_message(driver.chat_id, "after waiting")
    assert len(driver.bot_messages()) == 4


async def test_people_take_time_between_actions(fake: FakeTelegram, running: list[Any]) -> None:
    fake.clock = FrozenClock()
    driver = fake.user(101)
    for i in range(6):  # a test types faster than any person; simulated think time absorbs that
        assert (await driver.send(f"m{i}")).text == f"echo: m{i}"
    assert fake.limit_violations == 0

    # Machine-speed people: the chat's bucket (3 at most, one left after each reply) runs dry.
    fake.user_think_time = 0
    replies = [await driver.send(f"fast {i}", timeout=0.3) for i in range(3)]
    assert [r.text if r else None for r in replies] == ["echo: fast 0", "echo: fast 1", None]
    assert fake.limit_violations == 1
    assert fake.errors[-1][2:] == (429, "Too Many Requests: retry after 1")


async def test_global_rate_limit(fake: FakeTelegram, bot: Bot) -> None:
    fake.clock = FrozenClock()
    fake.limits.global_per_s = 10
    drivers = [fake.user(1000 + i) for i in range(15)]
    results = await asyncio.gather(
        *(bot.send_message(d.chat_id, "queue moved") for d in drivers), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, TelegramRetryAfter)]
    assert len(refused) == 5 and {r.retry_after for r in refused} == {1}
    assert fake.limit_violations == 5

    fake.limits.enabled = False
    await asyncio.gather(*(bot.send_message(d.chat_id, "unlimited") for d in drivers))


# --------------------------------------------------------------------------------------------------
# Bot settings, protocol details
# --------------------------------------------------------------------------------------------------


async def test_commands_are_stored_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands([BotCommand(command="start", description="شروع")], language_code="fa")
    await bot.set_my_commands(
        [BotCommand(command="queue", description="Очередь")], scope=BotCommandScopeAllPrivateChats(), language_code="ru"
    )
    assert fake.commands[("default", "")] == [{"command": "start", "description": "Start"}]
    assert fake.commands[("default", "fa")] == [{"command": "start", "description": "شروع"}]
    assert fake.commands[("all_private_chats", "ru")] == [{"command": "queue", "description": "Очередь"}]
    assert [c.description for c in await bot.get_my_commands(language_code="fa")] == ["شروع"]
    await bot.delete_my_commands(language_code="fa")
    assert ("default", "fa") not in fake.commands
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start Now", description="x")])


async def test_other_sending_methods(fake: FakeTelegram, bot: Bot) -> None:
    fake.limits.enabled = False  # five sends to one chat within milliseconds; limits are tested above
    driver, admin = fake.user(101), fake.user(9)
    original = await bot.send_message(driver.chat_id, "<i>Slot</i> 3")
    copied = await bot.copy_message(admin.chat_id, driver.chat_id, original.message_id)
    assert admin.messages[-1].message_id == copied.message_id and admin.messages[-1].text == "Slot 3"
    forwarded = await bot.forward_message(admin.chat_id, driver.chat_id, original.message_id)
    assert forwarded.forward_origin.type == "user"
    photo = await bot.send_photo(driver.chat_id, "AgACAgIAAxkBAAIfake", caption="<b>Map</b>")
    assert photo.caption == "Map" and photo.photo[-1].file_id == "AgACAgIAAxkBAAIfake"
    assert (await bot.send_location(driver.chat_id, 44.2, 80.4)).location.latitude == 44.2
    assert await bot.send_chat_action(driver.chat_id, "typing")
    assert fake.chat_actions(driver.chat_id) == ["typing"]
    reply = await bot.send_message(driver.chat_id, "re", reply_to_message_id=original.message_id)
    assert reply.reply_to_message.message_id == original.message_id


async def test_wire_protocol_errors_json_bodies_and_long_polling(fake: FakeTelegram) -> None:
    driver = fake.user(101)
    api = f"{fake.base_url}/bot{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}/bot1:WRONG/getMe") as response:
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
        await fake.stop()
        assert (await (await poll).json())["result"] == []
        assert time.monotonic() - started < 2.0


async def test_wrong_token_is_unauthorized_for_aiogram(fake: FakeTelegram) -> None:
    session = LocalSession(api=TelegramAPIServer.from_base(fake.base_url))
    intruder = Bot("999:OTHER", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await session.close()
