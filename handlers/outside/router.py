"""Taps from outside the bot's private chats: a button of a message in a group, or of an inline
message (which has no chat the bot can see). Bookings are a driver's own business, done in the
driver's chat with the bot; so such a tap gets a short answer and reaches no feature.

Included after the private chats' router (`handlers.include_all`), which takes every tap from a
private chat (its fallback answers the ones no feature knows): whatever tap comes here is from
elsewhere. Messages need no such answer: the features take private chats' messages only, and group
messages create no account (`bot.middlewares.AccountMiddleware`).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.replies import alert
from handlers.outside import screens


def router() -> Router:
    r = Router(name="outside")
    r.callback_query.register(tapped_outside)
    return r


async def tapped_outside(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, screens.private_chat_only())
