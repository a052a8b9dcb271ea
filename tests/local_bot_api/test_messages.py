"""Sending, editing and deleting, refused exactly where Telegram refuses."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from local_bot_api import BotAPIServer
from tests.local_bot_api.sample_bot import keyboard

pytestmark = pytest.mark.asyncio


async def test_edit_keeps_keyboard_only_when_given_and_refuses_no_op_edits(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
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


async def test_missing_messages_and_chats_are_refused(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
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


async def test_text_length_limit(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
    await bot.send_message(driver.chat_id, "я" * 4096)
    await bot.send_message(driver.chat_id, "<b>" + "x" * 4096 + "</b>")  # the limit applies after parsing
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(driver.chat_id, "x" * 4097)
    assert caught.value.message == "Bad Request: message is too long"
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(driver.chat_id, "🙂" * 2049)  # 4098 UTF-16 code units
    assert len(driver.bot_messages()) == 2


async def test_callback_data_limit(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
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
        ("Tom&nbsp;&amp; co", 'Unsupported HTML entity "&nbsp;" at byte offset 3'),
    ],
)
async def test_bad_html_is_refused(server: BotAPIServer, bot: Bot, html: str, description: str) -> None:
    driver = server.user(101)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(driver.chat_id, html)
    assert caught.value.message == f"Bad Request: can't parse entities: {description}"
    assert driver.messages == []


async def test_empty_text_is_refused(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(driver.chat_id, "")
    with pytest.raises(TelegramBadRequest, match="text must be non-empty"):
        await bot.send_message(driver.chat_id, "<b> </b>\n")


async def test_blocked_user_is_forbidden(server: BotAPIServer, bot: Bot) -> None:
    driver = server.user(101)
    sent = await bot.send_message(driver.chat_id, "hi")
    server.block(driver.user_id)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(driver.chat_id, "still there?")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("edited", chat_id=driver.chat_id, message_id=sent.message_id)
    member_update = server.pending_updates[-1]["my_chat_member"]
    assert member_update["new_chat_member"]["status"] == "kicked"


async def test_other_sending_methods(server: BotAPIServer, bot: Bot) -> None:
    server.limits.enabled = False  # five sends to one chat within milliseconds; limits are tested above
    driver, admin = server.user(101), server.user(9)
    original = await bot.send_message(driver.chat_id, "<i>Slot</i> 3")
    copied = await bot.copy_message(admin.chat_id, driver.chat_id, original.message_id)
    assert admin.messages[-1].message_id == copied.message_id and admin.messages[-1].text == "Slot 3"
    forwarded = await bot.forward_message(admin.chat_id, driver.chat_id, original.message_id)
    assert forwarded.forward_origin.type == "user"
    photo = await bot.send_photo(driver.chat_id, "AgACAgIAAxkBAAIfake", caption="<b>Map</b>")
    assert photo.caption == "Map" and photo.photo[-1].file_id == "AgACAgIAAxkBAAIfake"
    assert (await bot.send_location(driver.chat_id, 44.2, 80.4)).location.latitude == 44.2
    assert await bot.send_chat_action(driver.chat_id, "typing")
    assert server.chat_actions(driver.chat_id) == ["typing"]
    reply = await bot.send_message(driver.chat_id, "re", reply_to_message_id=original.message_id)
    assert reply.reply_to_message.message_id == original.message_id
