"""A small aiogram bot that exercises what Nobat does (commands, keyboards, edits, contacts, media),
for the tests that need a bot on the other end of the local Bot API server."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Dispatcher, F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


def sample_dispatcher(events: list[Any]) -> Dispatcher:
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

    @dp.callback_query(F.inline_message_id)
    async def inline_tap(query: CallbackQuery) -> None:
        events.append(("inline tap", query.data, query.inline_message_id, query.message))
        await query.answer("inline")

    @dp.callback_query(F.message.chat.type == "supergroup")
    async def group_tap(query: CallbackQuery) -> None:
        events.append(("group tap", query.data, query.from_user.id, query.message.chat.id, query.message.message_id))
        await query.answer("group")

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
