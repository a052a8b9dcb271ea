"""Simulated groups: `SimGroup` (a supergroup the bot is in, possibly a forum) and its topics, `SimTopic`.
People post there through `local_bot_api.people.SimUser`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from local_bot_api.chat import Chat, ChatMessage, ForumTopic
from local_bot_api.views import ChatView

if TYPE_CHECKING:
    from local_bot_api.people import SimUser
    from local_bot_api.server import BotAPIServer


class SimGroup(ChatView):
    """A supergroup the bot is in (as administrator, privacy mode off); people post via SimUser.

    In a forum (``server.group(..., forum=True)``) the topics the bot creates are `topics`; a
    message's `ChatMessage.thread_id` says which one it is in (None: General).
    """

    def __init__(self, server: BotAPIServer, chat: Chat, title: str) -> None:
        super().__init__(server, chat)
        self.title = title

    def __repr__(self) -> str:
        return f"SimGroup({self.chat_id}, {self.title!r})"

    @property
    def is_forum(self) -> bool:
        return self._chat.is_forum

    @property
    def topics(self) -> list[SimTopic]:
        """The topics there now (deleted ones are gone), oldest first."""
        return [SimTopic(self, topic) for topic in self._chat.topics.values() if not topic.deleted]

    def topic(self, thread_id: int) -> SimTopic:
        """The topic with that message_thread_id; LookupError if there is none (or it was deleted)."""
        topic = self._chat.topic(thread_id)
        if topic is None:
            raise LookupError(f"{self!r} has no topic {thread_id}; its topics: {[t.name for t in self.topics]}")
        return SimTopic(self, topic)

    def find_topic(self, name: str) -> SimTopic | None:
        """The newest topic called `name` (names need not be unique on Telegram), or None."""
        return next((topic for topic in reversed(self.topics) if topic.name == name), None)

    async def wait_for_topic(self, name: str, timeout: float = 5.0) -> SimTopic:
        """Wait until a topic called `name` is there (the bot creates topics when it likes)."""
        try:
            return await self._server._feed.wait_until(lambda: self.find_topic(name), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no topic {name!r} in {self!r} within {timeout:g}s; its topics: {[t.name for t in self.topics]}"
            ) from None

    def member_status(self, user: SimUser) -> str:
        """creator, administrator, member, left or kicked — what getChatMember tells the bot."""
        return self._chat.members.get(user.user_id, "left")

    def set_member_status(self, user: SimUser, status: str) -> None:
        """Set how `user` stands in the group as if it had been so before the test began: no service
        message, no update.  To have them join or leave in front of the bot, see `SimUser.join_group`."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unknown chat member status {status!r}")
        self._chat.members[user.user_id] = status


class SimTopic:
    """One topic of a forum `SimGroup`, as its members see it: a live view (renames, closing and
    new messages show at once)."""

    def __init__(self, group: SimGroup, topic: ForumTopic) -> None:
        self.group = group
        self._topic = topic

    def __repr__(self) -> str:
        return f"SimTopic({self.thread_id}, {self.name!r}{', closed' if self.closed else ''})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SimTopic) and other._topic is self._topic

    def __hash__(self) -> int:
        return hash((self.group.chat_id, self.thread_id))

    @property
    def thread_id(self) -> int:
        """The topic's message_thread_id: the id of the service message that created it."""
        return self._topic.thread_id

    @property
    def name(self) -> str:
        return self._topic.name

    @property
    def icon_color(self) -> int:
        return self._topic.icon_color

    @property
    def closed(self) -> bool:
        return self._topic.closed

    @property
    def messages(self) -> list[ChatMessage]:
        """Every message of the topic in order, service messages and deleted ones included."""
        return [m for m in self.group.messages if m.thread_id == self.thread_id]

    def bot_messages(self) -> list[ChatMessage]:
        """The bot's messages in the topic that are still there; service messages are not among them."""
        return [m for m in self.messages if m.from_bot and not m.deleted and not m.is_service]

    def last_message(self, from_bot: bool = True) -> ChatMessage | None:
        """Newest non-deleted, non-service message in the topic, by the bot (or by a person)."""
        return next(
            (m for m in reversed(self.messages) if m.from_bot == from_bot and not m.deleted and not m.is_service),
            None,
        )

    def transcript(self) -> str:
        return "\n".join(m.describe() for m in self.messages) or "(no messages)"

    async def wait_for(
        self, predicate: Callable[[ChatMessage], bool], timeout: float = 5.0, *, new_only: bool = False
    ) -> ChatMessage:
        """`SimGroup.wait_for`, among the bot's messages in this topic."""
        thread_id = self.thread_id
        return await self.group.wait_for(
            lambda m: m.thread_id == thread_id and predicate(m), timeout, new_only=new_only
        )
