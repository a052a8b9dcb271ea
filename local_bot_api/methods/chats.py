"""Chats the calls name: finding them, whether the bot may write there, and getChat."""

from __future__ import annotations

from typing import Any

from local_bot_api.chat import Chat
from local_bot_api.errors import ApiError, bad_request
from local_bot_api.wire import Params


class ChatMethods:
    """getChat, and the chat checks every other method makes; a mixin of `BotAPIServer`."""

    def _chat(self, params: Params, name: str = "chat_id") -> Chat:
        raw = params.values.get(name)
        if raw in (None, ""):
            raise bad_request(f"{name} is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None  # @username works only for public channels/groups
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    @staticmethod
    def _check_writable(chat: Chat) -> None:
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        info = {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
        return info
