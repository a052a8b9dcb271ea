"""Putting a screen in front of the driver after a button tap."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.screen import Screen

log = logging.getLogger(__name__)


async def replace(query: CallbackQuery, screen: Screen) -> Message:
    """Show the screen in place of the tapped message, so the chat stays one tidy thread.

    A double tap renders the same screen again, which Telegram refuses as "not modified": that is
    success. A message that can no longer be edited (deleted, or too old) gets a new one instead.
    """
    message = query.message
    if isinstance(message, Message):
        try:
            edited = await message.edit_text(**screen.as_kwargs())
            return edited if isinstance(edited, Message) else message
        except TelegramBadRequest as exc:
            if "message is not modified" in exc.message:
                return message
            log.info("cannot edit message %s in chat %s (%s); sending a new one",
                     message.message_id, message.chat.id, exc.message)
    return await query.bot.send_message(query.from_user.id, **screen.as_kwargs())


async def replace_too(query: CallbackQuery, chat_id: int | None, message_id: int | None, screen: Screen) -> None:
    """Show the screen on another message of the chat as well, unless it is the tapped one.

    A hold confirmed or cancelled from /mybookings must not leave its own message behind with a
    Confirm button and a countdown. Best effort: that message may be gone, and the database is the
    truth either way.
    """
    tapped = query.message
    if message_id is None:
        return
    if isinstance(tapped, Message) and (tapped.chat.id, tapped.message_id) == (chat_id, message_id):
        return
    try:
        await query.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **screen.as_kwargs())
    except (TelegramBadRequest, TelegramForbiddenError) as exc:
        log.info("could not update message %s in chat %s: %s", message_id, chat_id, exc.message)


def alert(callback_answer: CallbackAnswer, text: str) -> None:
    """Answer the tap with an alert the driver must dismiss, instead of the silent default answer."""
    callback_answer.text = text
    callback_answer.show_alert = True
