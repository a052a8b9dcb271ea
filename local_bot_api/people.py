"""Simulated people: `SimUser` (a private chat with the bot) and `SimGroup` (a supergroup the bot is in,
possibly a forum, whose topics are `SimTopic`).

Users send text, stickers, photos, documents, voice messages, contacts and locations, edit what they
wrote, join and leave groups, post in forum topics, tap inline and reply-keyboard buttons, and wait
(event-driven, no sleeping) for the bot to answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local_bot_api.chat import CallbackAnswer, Chat, ChatMessage, ForumTopic
from local_bot_api.errors import ApiError
from local_bot_api.formatting import FormattedText, format_text
from local_bot_api.media import file_ids, photo_sizes

if TYPE_CHECKING:
    from local_bot_api.server import BotAPIServer


class _ChatView:
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


class SimUser(_ChatView):
    """A Telegram user with a private chat with the bot.

    ``send*`` methods inject updates the way Telegram would deliver them and, with ``wait=True``,
    return the first message the bot sends or edits in this chat afterwards (None at timeout —
    they never raise on timeout, so a test can assert on silence).
    """

    def __init__(
        self,
        server: BotAPIServer,
        chat: Chat,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None = None,
    ) -> None:
        super().__init__(server, chat)
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.username = username
        # Telegram delivers the phone of a shared own contact without the "+" on most clients.
        self.phone_number = f"98912{user_id % 10_000_000:07d}"
        self.callback_answers: list[CallbackAnswer] = []
        # Simulated seconds this person takes between two actions; None: the server's
        # `user_think_time`.  0 makes one person act at machine speed (a flood, a script) while
        # everyone else keeps a human pace.
        self.think_time: float | None = None

    def __repr__(self) -> str:
        return f"SimUser({self.user_id}, {self.first_name!r})"

    @property
    def blocked(self) -> bool:
        return self._chat.blocked

    def as_user(self) -> dict[str, Any]:
        """The Bot API User object of this person."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def block(self) -> None:
        self._server.block(self.user_id)

    def unblock(self) -> None:
        self._server.unblock(self.user_id)

    # ---- sending ----------------------------------------------------------------------------

    async def _post(
        self,
        kind: str,
        text: str = "",
        entities: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        *,
        wait: bool,
        timeout: float,
        reply_to: ChatMessage | int | None = None,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
    ) -> ChatMessage | None:
        if thread is not None and group is None:
            raise TypeError("thread= is a topic of a group: pass group= too")
        target = group._chat if group is not None else self._chat
        if target is self._chat and self._chat.blocked:
            # Writing to a bot you blocked means pressing "Restart" first, which unblocks it.
            self._server.unblock(self.user_id)
        mark = len(target.activity)
        self._server._post_user_message(
            target, self, kind=kind, text=text, entities=entities or [], extra=extra or {}, reply_to=reply_to,
            thread=thread.thread_id if isinstance(thread, SimTopic) else thread,
        )
        return await self._view(target)._await_bot(mark, wait, timeout)

    def _view(self, chat: Chat) -> _ChatView:
        return self if chat is self._chat else _ChatView(self._server, chat)

    async def edit(
        self, message: ChatMessage, text: str, *, wait: bool = True, timeout: float = 5.0
    ) -> ChatMessage | None:
        """Edit one's own message (its text, or a media message's caption), in the private chat or
        a group; the bot gets an edited_message update.  Returns the bot's first message or edit
        in that chat after it, like `send`."""
        chat = self._server._chats[message.chat_id]
        mark = len(chat.activity)
        self._server._post_user_edit(self, message, _user_text(text))
        return await self._view(chat)._await_bot(mark, wait, timeout)

    async def send(
        self,
        text: str,
        *,
        wait: bool = True,
        timeout: float = 5.0,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage | None:
        """Send a text message to the bot (commands get a ``bot_command`` entity, as on Telegram)."""
        formatted = _user_text(text)
        return await self._post(
            "text", formatted.text, formatted.entities, wait=wait, timeout=timeout, reply_to=reply_to
        )

    async def send_sticker(
        self,
        emoji: str = "👍",
        *,
        set_name: str | None = "HotCherry",
        animated: bool = False,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a sticker (a bot must cope with non-text input without crashing)."""
        file_id, unique_id = file_ids("sticker")
        sticker: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": animated,
            "is_video": False,
            "emoji": emoji,
            "file_size": 23_456,
        }
        if set_name:
            sticker["set_name"] = set_name
        return await self._post("sticker", extra={"sticker": sticker}, wait=wait, timeout=timeout)

    async def _post_media(
        self, kind: str, caption: str | None, extra: dict[str, Any], *, group: SimGroup | None,
        thread: SimTopic | int | None, reply_to: ChatMessage | int | None, wait: bool, timeout: float,
    ) -> ChatMessage | None:
        """A photo, document or voice message with its caption (formatted as the user's text)."""
        formatted = _user_text(caption) if caption else FormattedText("", [])
        return await self._post(kind, formatted.text, formatted.entities, extra, wait=wait, timeout=timeout,
                                reply_to=reply_to, group=group, thread=thread)

    async def send_photo(
        self,
        caption: str | None = None,
        *,
        width: int = 1280,
        height: int = 960,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a photo (several PhotoSize entries, smallest first, like Telegram) to the bot, or
        with ``group=`` (and ``thread=``, a topic) post it there, like `send_to_group`."""
        extra = {"photo": photo_sizes(width, height)}
        return await self._post_media("photo", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_document(
        self,
        file_name: str = "invoice.pdf",
        caption: str | None = None,
        *,
        mime_type: str = "application/pdf",
        size: int = 48_213,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a file (a scan of a paper, say) to the bot, or post it in a group like `send_photo`."""
        file_id, unique_id = file_ids("document")
        extra = {
            "document": {
                "file_name": file_name, "mime_type": mime_type, "file_id": file_id, "file_unique_id": unique_id,
                "file_size": size,
            }
        }
        return await self._post_media("document", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_voice(
        self,
        duration: int = 4,
        caption: str | None = None,
        *,
        group: SimGroup | None = None,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Send a voice message (OGG/Opus, as Telegram's apps record them), or post it in a group."""
        file_id, unique_id = file_ids("voice")
        extra = {
            "voice": {
                "duration": duration, "mime_type": "audio/ogg", "file_id": file_id, "file_unique_id": unique_id,
                "file_size": 1_600 * max(1, duration),
            }
        }
        return await self._post_media("voice", caption, extra, group=group, thread=thread, reply_to=reply_to,
                                      wait=wait, timeout=timeout)

    async def send_contact(
        self,
        phone: str | None = None,
        *,
        own: bool = True,
        first_name: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Share a contact.  ``own=True`` is what a request_contact button sends: user_id is the sender.

        ``own=False`` shares somebody else's contact (another user_id), which a bot asking for
        the user's own phone must reject.
        """
        contact: dict[str, Any] = {
            "phone_number": phone or self.phone_number,
            "first_name": first_name or (self.first_name if own else "Friend"),
            "user_id": self.user_id if own else self.user_id + 1_000_000_000,
        }
        if own and self.last_name:
            contact["last_name"] = self.last_name
        return await self._post("contact", extra={"contact": contact}, wait=wait, timeout=timeout)

    async def send_location(
        self,
        latitude: float = 44.2183,
        longitude: float = 80.4106,
        *,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Share a location (default: the Khorgos border crossing)."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            location["live_period"] = live_period
        return await self._post("location", extra={"location": location}, wait=wait, timeout=timeout)

    async def send_to_group(
        self,
        group: SimGroup,
        text: str,
        *,
        thread: SimTopic | int | None = None,
        reply_to: ChatMessage | int | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> ChatMessage | None:
        """Write `text` in a group — in a forum, in the topic `thread` (a `SimTopic` or its
        message_thread_id), else in General; returns the bot's first message or edit in that group
        after it.

        A reply goes into the topic of the message it replies to.  Refused as a Telegram app would
        refuse it (PermissionError): in a group the person left or was banned from, and in a closed
        topic unless they are an administrator.  Someone who never joined is taken to have been a
        member all along.  LookupError for a topic that is not there.
        """
        formatted = _user_text(text)
        return await self._post(
            "text", formatted.text, formatted.entities, wait=wait, timeout=timeout, reply_to=reply_to,
            group=group, thread=thread,
        )

    async def join_group(self, group: SimGroup, *, wait: bool = True, timeout: float = 5.0) -> ChatMessage | None:
        """Join a group: its members see "X joined" (a new_chat_members message, which the bot gets
        too), and a bot that asked for chat_member updates gets one.  Returns the bot's first message
        or edit in the group after it."""
        status = group.member_status(self)
        if status in ("creator", "administrator", "member"):
            raise ValueError(f"{self!r} is already in {group!r} ({status})")
        if status == "kicked":
            raise PermissionError(f"{self!r} is banned from {group!r}: Telegram does not let them join")
        mark = len(group._chat.activity)
        self._server._post_membership_change(group._chat, self, "member")
        return await group._await_bot(mark, wait, timeout)

    async def leave_group(self, group: SimGroup, *, wait: bool = True, timeout: float = 5.0) -> ChatMessage | None:
        """Leave a group (a left_chat_member message and a chat_member update, as `join_group`)."""
        if group.member_status(self) in ("left", "kicked"):
            raise ValueError(f"{self!r} is not in {group!r}")
        mark = len(group._chat.activity)
        self._server._post_membership_change(group._chat, self, "left")
        return await group._await_bot(mark, wait, timeout)

    # ---- buttons ----------------------------------------------------------------------------

    def _find_inline_button(
        self, button: str | None, callback_data: str | None, message: ChatMessage | int | None, chat: Chat
    ) -> tuple[ChatMessage, dict[str, Any]] | None:
        if message is not None:
            target = message if isinstance(message, ChatMessage) else chat.find(message)
            if target is None:
                raise LookupError(f"message {message} is not in chat {chat.chat_id}")
            if target.deleted:
                raise LookupError(f"message {target.message_id} was deleted: its buttons are gone")
            candidates = [target]
        else:
            candidates = [m for m in reversed(chat.messages) if m.from_bot and not m.deleted]

        def buttons_of(candidate: ChatMessage) -> list[dict[str, Any]]:
            rows = (candidate.reply_markup or {}).get("inline_keyboard") or []
            return [b for row in rows for b in row]

        if callback_data is not None:
            for candidate in candidates:
                for spec in buttons_of(candidate):
                    if spec.get("callback_data") == callback_data:
                        return candidate, spec
            return None
        assert button is not None
        for matches in (
            lambda label: label == button,
            lambda label: button.casefold() in label.casefold(),
        ):
            for candidate in candidates:
                for spec in buttons_of(candidate):
                    if matches(spec.get("text", "")):
                        return candidate, spec
        return None

    def _find_reply_button(self, button: str) -> dict[str, Any] | None:
        rows = (self._chat.reply_keyboard or {}).get("keyboard") or []
        specs = [{"text": b} if isinstance(b, str) else b for row in rows for b in row]
        for matches in (
            lambda label: label == button,
            lambda label: button.casefold() in label.casefold(),
        ):
            for spec in specs:
                if matches(spec.get("text", "")):
                    return spec
        return None

    async def tap(
        self,
        button: str | None = None,
        *,
        callback_data: str | None = None,
        message: ChatMessage | int | None = None,
        group: SimGroup | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> CallbackAnswer | ChatMessage | None:
        """Press a button the bot showed.

        `button` is matched against button texts, exact match first, then case-insensitive
        substring; or pass ``callback_data=``.  The inline keyboard of `message` is searched, or
        else the bot's messages newest first, in the private chat or, with ``group=``, in that
        group (anyone in a group can press the buttons of the bot's messages there).  A callback
        button injects a callback_query and (wait=True) returns the bot's `CallbackAnswer`, or
        None if it never answers in time.  A button of the reply keyboard currently shown sends
        its text (or the user's contact / location for request_contact / request_location
        buttons) and behaves like `send`.  Raises LookupError when no such button is visible.
        """
        if (button is None) == (callback_data is None):
            raise TypeError("tap() needs exactly one of a button text or callback_data=")
        chat = group._chat if group is not None else self._chat
        found = self._find_inline_button(button, callback_data, message, chat)
        if found is not None:
            target, spec = found
            if "callback_data" not in spec:
                action = next((k for k in spec if k not in ("text", "style", "icon_custom_emoji_id")), "?")
                raise ValueError(
                    f"button {spec.get('text')!r} is a {action} button: tapping it sends nothing to the bot"
                )
            return await self._press(target.raw, spec["callback_data"], wait=wait, timeout=timeout)
        if button is not None and message is None and group is None:
            spec = self._find_reply_button(button)
            if spec is not None:
                if spec.get("request_contact"):
                    return await self.send_contact(wait=wait, timeout=timeout)
                if spec.get("request_location"):
                    return await self.send_location(wait=wait, timeout=timeout)
                unsupported = [k for k in spec if k.startswith("request_") or k == "web_app"]
                if unsupported:
                    raise ValueError(f"the local Bot API server cannot press a {unsupported[0]} keyboard button")
                return await self.send(spec["text"], wait=wait, timeout=timeout)
        wanted = f"callback_data={callback_data!r}" if callback_data is not None else repr(button)
        view = group if group is not None else self
        raise LookupError(f"no button {wanted} in chat {chat.chat_id}; the chat:\n{view.transcript()}")

    async def tap_data(
        self, data: str, message_id: int, *, group: SimGroup | None = None, wait: bool = True,
        timeout: float = 5.0,
    ) -> CallbackAnswer | None:
        """Inject a callback query with arbitrary data on `message_id` (of the private chat, or
        of `group`) — a forged tap.

        Telegram lets modified clients send any callback data for any message, so bots must
        validate it; this is how security tests do that.  A message that does not exist (or was
        deleted) is delivered as an InaccessibleMessage, as Telegram does.
        """
        chat = group._chat if group is not None else self._chat
        target = chat.find(message_id)
        if target is not None and not target.deleted:
            raw = target.raw
        else:
            raw = {"chat": dict(chat.info), "message_id": message_id, "date": 0}
        return await self._press(raw, data, wait=wait, timeout=timeout)

    async def tap_inline(
        self, data: str, inline_message_id: str = "AgAAAAAAAAAAAAAAAAAAAAAAAAAA", *, wait: bool = True,
        timeout: float = 5.0,
    ) -> CallbackAnswer | None:
        """Tap a button of a message sent "via" the bot in inline mode, in some chat the bot may not
        even be in: Telegram delivers the callback query with `inline_message_id` and no `message`.
        (Inline mode itself is not simulated; this is only the tap a bot must cope with.)"""
        return await self._press(None, data, wait=wait, timeout=timeout, inline_message_id=inline_message_id)

    async def _press(
        self, raw_message: dict[str, Any] | None, data: str, *, wait: bool, timeout: float,
        inline_message_id: str | None = None,
    ) -> CallbackAnswer | None:
        query_id = self._server._post_callback_query(self, raw_message, data, inline_message_id)
        if not wait:
            return None
        try:
            return await self._server._feed.wait_until(lambda: self._server._answers.get(query_id), timeout)
        except TimeoutError:
            return None


class SimGroup(_ChatView):
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


def _user_text(text: str) -> FormattedText:
    try:
        return format_text(text)
    except ApiError as error:  # an empty or over-long text, which a Telegram app would not send
        raise ValueError(f"a Telegram app would not send this text: {error.description}") from None

