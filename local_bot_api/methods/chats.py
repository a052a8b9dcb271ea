"""Chats the calls name: finding them, whether the bot may write there, getChat and getChatMember."""

from __future__ import annotations

from typing import Any

from local_bot_api.chat import Chat
from local_bot_api.errors import ApiError, bad_request
from local_bot_api.wire import Params


class ChatMethods:
    """getChat, getChatMember, and the chat checks every other method makes; a mixin of `BotAPIServer`."""

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

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        """Where a person stands in a chat.  In a supergroup someone who never joined it (or left)
        is "left", as Telegram answers; an id the server has never seen is a user Telegram cannot
        find."""
        chat = self._chat(params)
        user_id = params.int("user_id", invalid="invalid user_id specified")
        if user_id is None or user_id <= 0:
            raise bad_request("invalid user_id specified")
        if user_id == self.bot_id:
            return self._member("member" if chat.is_private else "administrator", self.bot_user())
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat.is_private:
            status = "member" if user_id == chat.chat_id else "left"
        else:
            status = chat.members.get(user_id, "left")
        return self._member(status, user.as_user())
