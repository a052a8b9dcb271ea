"""Taps from outside the bot's private chats: a button of a message in a group, or of an inline
message (which has no chat the bot can see). Bookings are a driver's own business, done in the
driver's chat with the bot; so such a tap gets a short answer and reaches no feature.

Messages need no such guard: each feature takes private-chat messages only, and group messages
create no account (`bot.middlewares.AccountMiddleware`).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.common.filters import Magic
from handlers.common.replies import alert
from handlers.outside import screens


def router() -> Router:
    r = Router(name="outside")
    # True also when there is no message at all (an inline message's button).
    r.callback_query.register(tapped_outside, Magic(~(F.message.chat.type == ChatType.PRIVATE)))
    return r


async def tapped_outside(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, screens.private_chat_only())
