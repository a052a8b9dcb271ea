"""A bare aiogram bot, the yardstick of `python -m bench bot`: it answers a message with a message
and a tap with an edit and a callback answer, and does nothing else (no database, no state, no
translation). Run as `python -m bench.echo_bot` with BOT_TOKEN and TELEGRAM_API_URL set.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message


def _button(n: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=f"tap {n}", callback_data=f"e:{n}")]])


async def echo(message: Message) -> None:
    await message.answer(message.text or "?", reply_markup=_button(1))


async def tapped(query: CallbackQuery) -> None:
    # A new text each time: an edit to the same text would be refused as "not modified".
    n = int(query.data.split(":")[1]) + 1
    await query.message.edit_text(f"tapped {n - 1}", reply_markup=_button(n))
    await query.answer()


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()
    dp.message.register(echo)
    dp.callback_query.register(tapped)
    await dp.start_polling(bot, polling_timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
