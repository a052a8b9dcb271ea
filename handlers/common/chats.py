"""Which kind of chat an update comes from, asked in one place.

Bookings, trucks and tickets are a driver's own business, done in the driver's private chat with the
bot; the agents answer tickets in their forum supergroup. `handlers.include_all` puts each feature
under the parent router of the chat kind it serves, and that router's filter is the only check
(aiogram applies a router's filters to every router included in it). The bot's middlewares that
concern private chats alone (the account, the chats in flight, the flood limit) ask
`in_private_chat` of the same chat aiogram resolved for the update (`event_chat`: a tap's is the
chat of the message it was on, and an inline message's is none).
"""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Chat, TelegramObject


def in_private_chat(chat: Chat | None) -> bool:
    return chat is not None and chat.type == ChatType.PRIVATE


class PrivateChat(Filter):
    """A message, an edit or a tap in a private chat with the bot."""

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        return in_private_chat(event_chat)


class Supergroup(Filter):
    """A message or an edit in a supergroup (which one, and whose, the features under it check)."""

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        return event_chat is not None and event_chat.type == ChatType.SUPERGROUP
