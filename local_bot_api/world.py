"""The simulated world: the people and groups the bot talks to, the updates they cause, and waiting
for the bot to react.  `SimulatedWorld` is the part of `BotAPIServer` that tests and the demo drive."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Callable
from typing import Any

from local_bot_api.acts import PeopleActs
from local_bot_api.chat import Chat, ChatMessage, ForumTopic
from local_bot_api.groups import SimGroup
from local_bot_api.methods.callbacks import PendingQuery
from local_bot_api.people import SimUser

logger = logging.getLogger(__name__)


class ChangeFeed:
    """Wakes every waiter whenever the simulated world changes; each waiter re-checks its condition.

    Simpler than one condition per kind of event, and cheap at test scale.  Waiting is
    event-driven: nobody polls with sleeps.
    """

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_until(self, check: Callable[[], Any], timeout: float) -> Any:
        """Return the first non-None result of `check()`; raise TimeoutError after `timeout` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            result = check()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass  # check once more, then give up
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)


class SimulatedWorld(PeopleActs):
    """People, groups and the updates they cause; a mixin of `BotAPIServer`, whose state it uses."""

    @property
    def bot_id(self) -> int:
        return self._bot_id if self._bot_id is not None else 123456

    def bot_user(self) -> dict[str, Any]:
        """The bot's User object, as in the `from` field of its messages."""
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def user(
        self,
        user_id: int,
        first_name: str = "Driver",
        language_code: str | None = "ru",
        username: str | None = None,
        last_name: str | None = None,
    ) -> SimUser:
        """The simulated user `user_id`, created on first use (later calls return the same one)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        info: dict[str, Any] = {"id": user_id, "first_name": first_name, "type": "private"}
        if last_name:
            info["last_name"] = last_name
        if username:
            info["username"] = username
        chat = Chat(user_id, info)
        self._chats[user_id] = chat
        sim = SimUser(self, chat, user_id, first_name, language_code, username, last_name)
        self._users[user_id] = sim
        return sim

    def group(self, chat_id: int, title: str = "Agents", *, forum: bool = False) -> SimGroup:
        """The supergroup `chat_id` (negative, e.g. -1001234567890), created on first use.

        ``forum=True`` makes it a forum (topics enabled: ``is_forum`` in its Chat object), where
        the bot may create topics; asking again with it turns topics on in an existing group, as
        an administrator can.
        """
        existing = self._groups.get(chat_id)
        if existing is not None:
            if forum and not existing._chat.is_forum:
                existing._chat.info["is_forum"] = True
            return existing
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        info: dict[str, Any] = {"id": chat_id, "title": title, "type": "supergroup"}
        if forum:
            info["is_forum"] = True
        chat = Chat(chat_id, info)
        self._chats[chat_id] = chat
        sim = SimGroup(self, chat, title)
        self._groups[chat_id] = sim
        return sim

    @property
    def users(self) -> list[SimUser]:
        return list(self._users.values())

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends and edits to the chat answer 403 from now on.

        Telegram also sends the bot a my_chat_member update (status "kicked"), so this does too.
        """
        user = self._require_user(user_id)
        if user._chat.blocked:
            return
        user._chat.blocked = True
        self._post_member_update(user, old="member", new="kicked")

    def unblock(self, user_id: int) -> None:
        """The user restarts the bot (my_chat_member update back to "member")."""
        user = self._require_user(user_id)
        if not user._chat.blocked:
            return
        user._chat.blocked = False
        self._post_member_update(user, old="kicked", new="member")

    def chat_messages(self, chat_id: int) -> list[ChatMessage]:
        """All messages of a chat in order (deleted ones included, flagged); [] for unknown chats."""
        chat = self._chats.get(chat_id)
        return chat.messages if chat else []

    def chat_actions(self, chat_id: int) -> list[str]:
        """Chat actions ("typing", ...) the bot sent to a chat, in order."""
        chat = self._chats.get(chat_id)
        return chat.actions if chat else []

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of `method` (case-insensitive), in order."""
        return [params for name, params in self.requests if name.lower() == method.lower()]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (delivered ones stay until the next offset)."""
        return list(self._updates)

    @property
    def last_update_id(self) -> int:
        """The id of the newest update injected so far (one less than the first before any)."""
        return self._next_update_id - 1

    @property
    def callback_queries(self) -> list[PendingQuery]:
        """Every tap on a callback button so far, in order, with whether (and how) it was answered."""
        return list(self._queries.values())

    async def wait_until(self, condition: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until ``condition()`` returns something other than None/False; return that.

        Re-evaluated whenever the bot calls the API or a person acts (no polling).  Raises
        TimeoutError after `timeout` seconds.
        """

        def check() -> Any:
            result = condition()
            return None if result is False else result

        return await self._feed.wait_until(check, timeout)

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.05) -> bool:
        """Wait until the bot fetched every update and made no API call for `quiet` seconds.

        A heuristic — the server cannot see inside the bot — but a useful one after ``wait=False``
        injections.  Returns False if that did not happen within `timeout`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            try:
                await self._feed.wait_until(lambda: True if self._all_fetched() else None, remaining)
            except TimeoutError:
                return False
            stamp = self._activity
            window = min(quiet, max(0.0, deadline - loop.time()))
            try:
                await self._feed.wait_until(lambda: True if self._activity != stamp else None, window)
            except TimeoutError:
                if self._all_fetched():
                    return True
            if loop.time() >= deadline:
                return False

    def _all_fetched(self) -> bool:
        return all(update["update_id"] <= self._fetched_update_id for update in self._updates)

    def _require_user(self, user_id: int) -> SimUser:
        user = self._users.get(user_id)
        if user is None:
            raise KeyError(f"no simulated user {user_id}; create it with server.user({user_id})")
        return user

    def _emit(self, event: str, message: ChatMessage) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, message)
            except Exception:  # a broken demo renderer must not break the server
                logger.exception("local Bot API server: a listener failed")

    # ---- injecting updates --------------------------------------------------------------------

    def _post_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._feed.notify()
        return update_id

    def _new_message(
        self,
        chat: Chat,
        *,
        from_bot: bool,
        sender: dict[str, Any],
        kind: str,
        text: str,
        entities: list[dict[str, Any]],
        extra: dict[str, Any] | None = None,
        reply_to: ChatMessage | None = None,
        inline_markup: dict[str, Any] | None = None,
        topic: ForumTopic | None = None,
    ) -> tuple[ChatMessage, dict[str, Any]]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        date = int(time.time())
        raw: dict[str, Any] = {"message_id": message_id, "from": sender, "chat": dict(chat.info), "date": date}
        if topic is not None:
            raw["message_thread_id"] = topic.thread_id
            raw["is_topic_message"] = True
            if reply_to is None and message_id != topic.thread_id:
                # A topic is the reply thread of the message that created it: Telegram gives every
                # message there that replies to nothing else that message as reply_to_message.
                reply_to = chat.find(topic.thread_id)
        if reply_to is not None:
            replied = {k: v for k, v in reply_to.raw.items() if k != "reply_to_message"}
            raw["reply_to_message"] = copy.deepcopy(replied)
        if kind == "text":
            raw["text"] = text
            if entities:
                raw["entities"] = entities
        else:
            raw.update(copy.deepcopy(extra or {}))
            if text:
                raw["caption"] = text
                if entities:
                    raw["caption_entities"] = entities
        if inline_markup is not None:
            raw["reply_markup"] = inline_markup
        message = ChatMessage(
            message_id=message_id,
            chat_id=chat.chat_id,
            from_bot=from_bot,
            text=text,
            entities=list(entities),
            date=date,
            kind=kind,
            sender_id=sender["id"],
            thread_id=topic.thread_id if topic is not None else None,
            raw=raw,
        )
        chat.messages.append(message)
        return message, raw

    def _new_service_message(
        self, chat: Chat, sender: dict[str, Any], kind: str, payload: Any, topic: ForumTopic | None = None
    ) -> ChatMessage:
        """A message Telegram posts about the chat itself (a topic created, someone joined)."""
        message, _ = self._new_message(
            chat, from_bot=sender["id"] == self.bot_id, sender=sender, kind=kind, text="", entities=[],
            extra={kind: payload}, topic=topic,
        )
        self._emit("service", message)
        return message

    # ---- membership -----------------------------------------------------------------------------

    def _member(self, status: str, user: dict[str, Any]) -> dict[str, Any]:
        """The Bot API ChatMember object of that status (an administrator has the rights the bot has)."""
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                can_be_edited=False, is_anonymous=False, can_manage_chat=True, can_delete_messages=True,
                can_manage_video_chats=True, can_restrict_members=True, can_promote_members=False,
                can_change_info=True, can_invite_users=True, can_post_stories=False, can_edit_stories=False,
                can_delete_stories=False, can_pin_messages=True, can_manage_topics=True,
                can_send_welcome_messages=False,  # Bot API 10.3; aiogram 3.31 requires it
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _post_membership_change(self, chat: Chat, user: SimUser, new: str) -> None:
        """A person joins or leaves a group: the service message everyone sees, and the chat_member
        update (which Telegram sends only to a bot that names it in allowed_updates)."""
        old = chat.members.get(user.user_id, "left")
        chat.members[user.user_id] = new
        chat.think_skew += self._think_time(user)
        if new == "member":
            service = self._new_service_message(chat, user.as_user(), "new_chat_members", [user.as_user()])
        else:
            service = self._new_service_message(chat, user.as_user(), "left_chat_member", user.as_user())
        self._post_update("message", copy.deepcopy(service.raw))
        self._post_update(
            "chat_member",
            {
                "chat": dict(chat.info),
                "from": user.as_user(),
                "date": service.date,
                "old_chat_member": self._member(old, user.as_user()),
                "new_chat_member": self._member(new, user.as_user()),
            },
        )

    def _post_member_update(self, user: SimUser, *, old: str, new: str) -> None:
        self._post_update(
            "my_chat_member",
            {
                "chat": dict(user._chat.info),
                "from": user.as_user(),
                "date": int(time.time()),
                "old_chat_member": self._member(old, self.bot_user()),
                "new_chat_member": self._member(new, self.bot_user()),
            },
        )
