"""What a simulated person and a simulated group share: reading a chat and waiting for the bot in it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from local_bot_api.chat import Chat, ChatMessage

if TYPE_CHECKING:
    from local_bot_api.server import BotAPIServer


class ChatView:
    """What SimUser and SimGroup share: reading a chat and waiting for the bot in it."""

    def __init__(self, server: BotAPIServer, chat: Chat) -> None:
        self._server = server
        self._chat = chat

    @property
    def chat_id(self) -> int:
        return self._chat.chat_id

    @property
    def messages(self) -> list[ChatMessage]:
        """Every message of the chat in order, the bot's and the people's; deleted ones included."""
        return self._chat.messages

    def bot_messages(self) -> list[ChatMessage]:
        """The bot's messages that are still there (not deleted), oldest first.  Service messages
        ("topic created") are not the bot's words and are only in `messages`."""
        return [m for m in self._chat.messages if m.from_bot and not m.deleted and not m.is_service]

    def find(self, message_id: int) -> ChatMessage | None:
        """The message of this chat with that id, as it is now (edits applied), or None."""
        return self._chat.find(message_id)

    def last_message(self, from_bot: bool = True) -> ChatMessage | None:
        """Newest non-deleted message sent by the bot (or, with from_bot=False, by a person);
        service messages do not count."""
        for message in reversed(self._chat.messages):
            if message.from_bot == from_bot and not message.deleted and not message.is_service:
                return message
        return None

    def transcript(self) -> str:
        """The chat as readable text, for failure messages and debugging."""
        if not self._chat.messages:
            return "(no messages)"
        return "\n".join(message.describe() for message in self._chat.messages)

    async def wait_for(
        self,
        predicate: Callable[[ChatMessage], bool],
        timeout: float = 5.0,
        *,
        new_only: bool = False,
    ) -> ChatMessage:
        """Wait until one of the bot's messages here satisfies `predicate`; return it.

        Re-checked on every change, so a message that only later gets edited into shape counts.
        Newest messages are tried first.  With ``new_only=True`` only messages the bot sends or
        edits after this call are considered.  Raises TimeoutError with a transcript of the chat.
        """
        mark = len(self._chat.activity)

        def check() -> ChatMessage | None:
            if new_only:
                candidates = reversed(self._chat.activity[mark:])
            else:
                candidates = (m for m in reversed(self._chat.messages) if m.from_bot and not m.is_service)
            for message in candidates:
                if not message.deleted and predicate(message):
                    return message
            return None

        try:
            return await self._server._feed.wait_until(check, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no bot message in chat {self.chat_id} matched within {timeout:g}s; the chat:\n{self.transcript()}"
            ) from None

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.05) -> bool:
        """See `BotAPIServer.wait_idle`."""
        return await self._server.wait_idle(timeout, quiet)

    async def _await_bot(self, mark: int, wait: bool, timeout: float) -> ChatMessage | None:
        """The first message the bot sent or edited here after `mark`, or None at timeout."""
        if not wait:
            return None
        activity = self._chat.activity
        try:
            return await self._server._feed.wait_until(
                lambda: activity[mark] if len(activity) > mark else None, timeout
            )
        except TimeoutError:
            return None
