"""A hold's messages once the hold has ended (expired, confirmed or cancelled): the news is said
once, by the message that says it (the tapped one, or the expiry's new message, which rings); the
hold's own message and its warning merely lose their buttons, so no Confirm looks alive after the
hold is gone. A stale Confirm tapped anyway gets an alert (`handlers.booking.router`)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, Message

log = logging.getLogger(__name__)


async def drop_buttons(bot: Bot, chat_id: int | None, message_id: int | None) -> None:
    """Take the buttons off one message, its text kept. Best effort: the message may be gone, or
    have no buttons left (a second tap), and the database is the truth either way."""
    if chat_id is None or message_id is None:
        return
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
    except (TelegramBadRequest, TelegramForbiddenError) as exc:
        log.info("the buttons of message %s in chat %s stay: %s", message_id, chat_id, exc.message)


async def drop_buttons_too(query: CallbackQuery, chat_id: int | None, *message_ids: int | None) -> None:
    """`drop_buttons` on each of these messages but the tapped one (which the handler shows its
    answer in), each once."""
    tapped = query.message.message_id if isinstance(query.message, Message) else None
    tapped_chat = query.message.chat.id if isinstance(query.message, Message) else None
    for message_id in dict.fromkeys(message_ids):
        if message_id is not None and (chat_id, message_id) != (tapped_chat, tapped):
            await drop_buttons(query.bot, chat_id, message_id)
