"""Forum topics: createForumTopic, editForumTopic, closeForumTopic, reopenForumTopic, deleteForumTopic,
and which topic a message the bot sends goes to.

A topic is the reply thread of the service message that created it: its message_thread_id is that
message's id, and closing, reopening or renaming it posts another service message there.  The bot
is an administrator with every topic right, so it may post in closed topics, as on Telegram.
"""

from __future__ import annotations

import re
from typing import Any

from local_bot_api.chat import Chat, ChatMessage, ForumTopic
from local_bot_api.errors import bad_request
from local_bot_api.limits import MAX_TOPIC_NAME_LENGTH
from local_bot_api.wire import Params

# The colours Telegram's apps offer for a topic's icon, in the order they offer them.
ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]+")


def clean_topic_name(name: str) -> str:
    """A name as Telegram stores it: control characters (newlines) as spaces, trimmed, and cut to
    128 characters — Telegram shortens a longer name instead of refusing it."""
    name = _CONTROL_CHARACTERS.sub(" ", name).strip()
    return name[:MAX_TOPIC_NAME_LENGTH].rstrip()


class ForumMethods:
    """The forum topic methods; a mixin of `BotAPIServer`."""

    def _forum(self, params: Params) -> Chat:
        chat = self._chat(params)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        return chat

    def _topic_to_manage(self, params: Params) -> tuple[Chat, ForumTopic]:
        chat = self._forum(params)
        thread_id = params.int("message_thread_id", invalid="invalid message thread identifier specified")
        if thread_id is None or thread_id <= 0:
            raise bad_request("invalid message thread identifier specified")
        topic = chat.topic(thread_id)
        if topic is None:
            raise bad_request("TOPIC_ID_INVALID")
        return chat, topic

    def _send_topic(self, chat: Chat, params: Params, reply_to: ChatMessage | None) -> ForumTopic | None:
        """The topic a message goes to: message_thread_id, else the topic of the message it replies
        to; None is General (or a chat that is not a forum)."""
        thread_id = params.int("message_thread_id")
        if not thread_id:
            return chat.topic(reply_to.thread_id) if reply_to is not None else None
        topic = chat.topic(thread_id) if chat.is_forum else None
        if topic is None:
            raise bad_request("message thread not found")
        return topic

    def _post_topic_service(self, chat: Chat, topic: ForumTopic, kind: str, payload: dict[str, Any]) -> None:
        self._new_service_message(chat, self.bot_user(), kind, payload, topic)

    async def _create_forum_topic(self, params: Params) -> dict[str, Any]:
        chat = self._forum(params)
        name = clean_topic_name(params.str("name") or "")
        if not name:
            raise bad_request("title must be non-empty")
        icon_color = params.int("icon_color") or 0
        if not icon_color:  # Telegram picks one; here the next in order, so tests are repeatable
            icon_color = ICON_COLORS[len(chat.topics) % len(ICON_COLORS)]
        elif icon_color not in ICON_COLORS:
            raise bad_request("invalid icon color specified")
        topic = ForumTopic(chat.next_message_id, name, icon_color, params.str("icon_custom_emoji_id") or None)
        chat.topics[topic.thread_id] = topic
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if topic.icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
        self._post_topic_service(chat, topic, "forum_topic_created", created)
        return topic.as_api()

    async def _edit_forum_topic(self, params: Params) -> bool:
        chat, topic = self._topic_to_manage(params)
        name = clean_topic_name(params.str("name") or "")
        edit_icon = "icon_custom_emoji_id" in params.values
        if not name and not edit_icon:
            return True  # nothing asked: Telegram keeps the topic as it is and says True
        icon = (params.str("icon_custom_emoji_id") or None) if edit_icon else topic.icon_custom_emoji_id
        if (name or topic.name) == topic.name and icon == topic.icon_custom_emoji_id:
            raise bad_request("TOPIC_NOT_MODIFIED")
        edited: dict[str, Any] = {}
        if name and name != topic.name:
            topic.name = edited["name"] = name
        if icon != topic.icon_custom_emoji_id:
            topic.icon_custom_emoji_id = icon
            edited["icon_custom_emoji_id"] = icon or ""  # "" says the icon was removed
        self._post_topic_service(chat, topic, "forum_topic_edited", edited)
        return True

    async def _close_forum_topic(self, params: Params) -> bool:
        return self._set_topic_closed(params, closed=True)

    async def _reopen_forum_topic(self, params: Params) -> bool:
        return self._set_topic_closed(params, closed=False)

    def _set_topic_closed(self, params: Params, *, closed: bool) -> bool:
        chat, topic = self._topic_to_manage(params)
        if topic.closed == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = closed
        self._post_topic_service(chat, topic, "forum_topic_closed" if closed else "forum_topic_reopened", {})
        return True

    async def _delete_forum_topic(self, params: Params) -> bool:
        chat, topic = self._topic_to_manage(params)
        topic.deleted = True
        for message in chat.messages:
            if message.thread_id == topic.thread_id and not message.deleted:
                self._mark_deleted(message)
        return True
