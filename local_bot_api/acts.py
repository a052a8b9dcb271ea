"""What people do in the simulated world: post a message (into a private chat, a group, a topic),
edit one, tap a button. Each is refused the way a Telegram app refuses it, then becomes the update
Telegram would send the bot. A part of `SimulatedWorld`."""

from __future__ import annotations

import copy
import time
from typing import Any

from local_bot_api.chat import CAPTIONLESS_KINDS, Chat, ChatMessage, ForumTopic
from local_bot_api.methods.callbacks import PendingQuery
from local_bot_api.people import SimUser


class PeopleActs:
    """Mixed into `SimulatedWorld`, whose chats, updates and clock it uses."""

    def _post_user_message(
        self,
        chat: Chat,
        user: SimUser,
        *,
        kind: str,
        text: str,
        entities: list[dict[str, Any]],
        extra: dict[str, Any],
        reply_to: ChatMessage | int | None,
        thread: int | None = None,
    ) -> ChatMessage:
        target = self._user_reply_target(chat, reply_to)
        topic = self._user_topic(chat, user, thread, target)
        if not chat.is_private:
            chat.members.setdefault(user.user_id, "member")
        chat.think_skew += self._think_time(user)
        message, raw = self._new_message(
            chat, from_bot=False, sender=user.as_user(), kind=kind, text=text, entities=entities,
            extra=extra, reply_to=target, topic=topic,
        )
        self._emit("user", message)
        self._post_update("message", copy.deepcopy(raw))
        return message

    @staticmethod
    def _user_reply_target(chat: Chat, reply_to: ChatMessage | int | None) -> ChatMessage | None:
        if reply_to is None:
            return None
        message_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
        target = chat.find(message_id)
        if target is None or target.deleted or (isinstance(reply_to, ChatMessage) and target is not reply_to):
            raise LookupError(f"message {message_id} is not in chat {chat.chat_id}: there is nothing to reply to")
        return target

    def _user_topic(
        self, chat: Chat, user: SimUser, thread: int | None, reply_to: ChatMessage | None
    ) -> ForumTopic | None:
        """Where a person's message goes, refused the way a Telegram app refuses: a group they left
        or were banned from, a closed topic (unless they administer the group)."""
        if chat.is_private:
            if thread is not None:
                raise LookupError("topics of a private chat with the bot are not simulated")
            return None
        # Someone who never joined nor left is taken to have been a member all along (and is one
        # from this post on, for getChatMember), so a test need not stage every joining.
        status = chat.members.get(user.user_id, "member")
        if status in ("left", "kicked"):
            raise PermissionError(f"{user!r} is not in chat {chat.chat_id} ({status}): Telegram does not let them post")
        if reply_to is not None and reply_to.thread_id is not None:
            if thread is not None and thread != reply_to.thread_id:
                raise ValueError(f"message {reply_to.message_id} is in topic {reply_to.thread_id}, not {thread}")
            thread = reply_to.thread_id  # a reply goes where the replied message is
        if thread is None:
            return None
        topic = chat.topic(thread) if chat.is_forum else None
        if topic is None:
            raise LookupError(f"chat {chat.chat_id} has no topic {thread}")
        if topic.closed and status not in ("creator", "administrator"):
            raise PermissionError(f"topic {topic.name!r} is closed: only administrators can post there")
        return topic

    def _post_user_edit(self, user: SimUser, message: ChatMessage, formatted: Any) -> None:
        """A person edits their own message; Telegram tells the bot with an edited_message update."""
        if message.from_bot or message.sender_id != user.user_id:
            raise PermissionError(f"{user!r} can only edit their own messages")
        if message.deleted:
            raise LookupError(f"message {message.message_id} was deleted")
        if message.is_service or message.kind in CAPTIONLESS_KINDS:
            raise ValueError(f"a {message.kind} message has no text to edit")
        if formatted.text == message.text and formatted.entities == message.entities:
            raise ValueError("a Telegram app does not send an edit that changes nothing")
        chat = self._chats[message.chat_id]
        chat.think_skew += self._think_time(user)
        text_key, entities_key = ("text", "entities") if message.kind == "text" else ("caption", "caption_entities")
        message.text, message.entities = formatted.text, list(formatted.entities)
        message.raw.pop(text_key, None)
        message.raw.pop(entities_key, None)
        if formatted.text:
            message.raw[text_key] = formatted.text
        if formatted.entities:
            message.raw[entities_key] = formatted.entities
        message.edited = True
        message.edit_count += 1
        message.raw["edit_date"] = int(time.time())
        self._emit("edited", message)
        self._post_update("edited_message", copy.deepcopy(message.raw))

    def _think_time(self, user: SimUser) -> float:
        return self.user_think_time if user.think_time is None else user.think_time

    def _post_callback_query(
        self, user: SimUser, raw_message: dict[str, Any] | None, data: str | None, inline_message_id: str | None = None
    ) -> str:
        """A tap on a button of `raw_message`, or with no message (None) on the inline message
        `inline_message_id`: then the query carries that id instead, as Telegram's does."""
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1_000_003 + next(self._query_counter))
        self._queries[query_id] = PendingQuery(user=user, data=data, created=self.clock())
        query: dict[str, Any] = {"id": query_id, "from": user.as_user()}
        if raw_message is not None:
            chat_id = raw_message["chat"]["id"]
            chat = self._chats.get(chat_id)
            if chat is not None:
                chat.think_skew += self._think_time(user)
            query["message"] = copy.deepcopy(raw_message)
        else:
            chat_id = user.user_id  # the chat the inline message is in is not told to the bot
            query["inline_message_id"] = inline_message_id
        query["chat_instance"] = str(-(abs(chat_id) * 2_654_435_761 % 9_000_000_000_000_000_000) - 1)
        if data is not None:
            query["data"] = data
        self._post_update("callback_query", query)
        return query_id
