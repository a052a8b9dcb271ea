"""Simulated people: `SimUser`, a private chat with the bot, who also posts in groups
(`local_bot_api.groups`).

Users send text, contacts and locations, files (`local_bot_api.people_media`: stickers, photos,
documents, voice messages, videos, video notes, animations, audio), edit what they wrote, join and
leave groups, post in forum topics, tap inline and reply-keyboard buttons, and wait (event-driven,
no sleeping) for the bot to answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_bot_api.chat import CallbackAnswer, Chat, ChatMessage
from local_bot_api.errors import ApiError
from local_bot_api.formatting import FormattedText, format_text
from local_bot_api.groups import SimGroup, SimTopic
from local_bot_api.people_media import MediaSending
from local_bot_api.views import ChatView

if TYPE_CHECKING:
    from local_bot_api.server import BotAPIServer


class SimUser(MediaSending, ChatView):
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

    def _view(self, chat: Chat) -> ChatView:
        return self if chat is self._chat else ChatView(self._server, chat)

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

    async def _post_media(
        self, kind: str, caption: str | None, extra: dict[str, Any], *, group: SimGroup | None,
        thread: SimTopic | int | None, reply_to: ChatMessage | int | None, wait: bool, timeout: float,
    ) -> ChatMessage | None:
        """A file with its caption (formatted as the user's text), for `MediaSending`."""
        formatted = _user_text(caption) if caption else FormattedText("", [])
        return await self._post(kind, formatted.text, formatted.entities, extra, wait=wait, timeout=timeout,
                                reply_to=reply_to, group=group, thread=thread)

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
            answer = await self._server._feed.wait_until(lambda: self._server._answers.get(query_id), timeout)
        except TimeoutError:
            return None
        if self._server.settle is not None:
            chat = raw_message["chat"]["id"] if raw_message is not None else self.user_id
            await self._server.settle(chat)
        return answer


def _user_text(text: str) -> FormattedText:
    try:
        return format_text(text)
    except ApiError as error:  # an empty or over-long text, which a Telegram app would not send
        raise ValueError(f"a Telegram app would not send this text: {error.description}") from None

