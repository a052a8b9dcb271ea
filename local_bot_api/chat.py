"""One chat as the server keeps it (`Chat`), its messages as people see them (`ChatMessage`), and the
answers people get when they tap a button (`CallbackAnswer`)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from local_bot_api.limits import TokenBucket

# Persian and Arabic-Indic digits as ASCII, bidi isolates and marks dropped: what a test compares.
_DIGITS_TO_LATIN = {code: str(digit) for digit in range(10) for code in (0x06F0 + digit, 0x0660 + digit)}
_DIGITS_TO_LATIN.update({code: None for code in (0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C)})

# Messages Telegram itself posts about the chat ("X created the topic", "X joined"): no text, and
# neither copied nor forwarded by the Bot API.
SERVICE_KINDS = frozenset({
    "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "new_chat_members", "left_chat_member",
})
# Messages that are neither a text nor have a caption: none can be sent with them or edited in, and
# a copy's new caption is dropped (a video note is a round video without words, like a sticker).
CAPTIONLESS_KINDS = frozenset({"sticker", "video_note", "location", "contact"})


@dataclass
class CallbackAnswer:
    """How the bot answered a callback query (the toast or alert the user sees after a tap)."""

    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0
    query_id: str = ""
    data: str | None = None  # callback_data of the tapped button


@dataclass(eq=False)
class ChatMessage:
    """One message in a simulated chat, as the user would see it.

    Objects are live: an edit by the bot updates the same object, a deletion sets `deleted`.
    `raw` is the Bot API Message object as Telegram would send it now.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    text: str  # visible text (HTML parsed); a media message's caption, or ""
    html: str | None = None  # the raw text as the bot sent it, when it used parse_mode=HTML
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None  # inline or reply keyboard, as sent
    edited: bool = False
    edit_count: int = 0
    deleted: bool = False
    date: int = 0
    # text, photo, sticker, document, voice, video, video_note, animation, audio, contact, location,
    # or a SERVICE_KINDS one
    kind: str = "text"
    sender_id: int | None = None
    parse_mode: str | None = None
    thread_id: int | None = None  # the forum topic it is in; None in General and outside forums
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_service(self) -> bool:
        return self.kind in SERVICE_KINDS

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of ``(text, callback_data or None)``."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(button.get("text", ""), button.get("callback_data")) for button in row] for row in rows]

    @property
    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def reply_buttons(self) -> list[str]:
        """Texts of the reply keyboard (the one that replaces the user's keyboard), flattened."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [button if isinstance(button, str) else button.get("text", "") for row in rows for button in row]

    @property
    def text_digits_latin(self) -> str:
        """Text with Persian/Arabic-Indic digits as ASCII and bidi isolates/marks removed.

        Lets tests assert on numbers ("slot 14:30") whatever the locale renders.
        """
        return self.text.translate(_DIGITS_TO_LATIN)

    def describe(self) -> str:
        """One readable transcript entry, used in timeout dumps and by the terminal demo."""
        who = "bot" if self.from_bot else "user"
        flags = []
        if self.edited:
            flags.append(f"edited x{self.edit_count}")
        if self.deleted:
            flags.append("deleted")
        where = f" in topic {self.thread_id}" if self.thread_id is not None else ""
        head = f"#{self.message_id} {who}{where}" + (f" ({', '.join(flags)})" if flags else "")
        if self.is_service:
            body = f"[{self.kind}] {self.raw.get(self.kind)}"
        else:
            body = self.text if self.kind == "text" else f"[{self.kind}] {self.text}".rstrip()
        lines = [f"{head}: {body}"]
        for row in self.buttons:
            lines.append("    " + " ".join(f"[{text} | {data}]" for text, data in row))
        if self.reply_buttons:
            lines.append("    keyboard: " + " ".join(f"[{text}]" for text in self.reply_buttons))
        return "\n".join(lines)


@dataclass(eq=False)
class ForumTopic:
    """A topic of a forum supergroup.  Its id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def as_api(self) -> dict[str, Any]:
        """The Bot API ForumTopic object."""
        topic: dict[str, Any] = {"message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass(eq=False)
class Chat:
    """What the server keeps of one chat: its messages, who blocked whom, the keyboard shown, limits."""

    chat_id: int
    info: dict[str, Any]  # the Bot API Chat object
    messages: list[ChatMessage] = field(default_factory=list)
    activity: list[ChatMessage] = field(default_factory=list)  # every bot send/edit, in order
    next_message_id: int = 1
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None  # the reply keyboard currently shown to the user
    bucket: TokenBucket = field(default_factory=TokenBucket)
    think_skew: float = 0.0  # simulated thinking time of this chat's people so far (rate limiting)
    actions: list[str] = field(default_factory=list)  # sendChatAction log
    menu_button: dict[str, Any] | None = None
    topics: dict[int, ForumTopic] = field(default_factory=dict)  # by thread id, deleted ones included
    # Group membership by user id: creator, administrator, member, left or kicked.  Nobody in it
    # yet means "never joined": getChatMember says "left".
    members: dict[int, str] = field(default_factory=dict)

    @property
    def is_private(self) -> bool:
        return self.info["type"] == "private"

    @property
    def is_forum(self) -> bool:
        return bool(self.info.get("is_forum"))

    def topic(self, thread_id: int | None) -> ForumTopic | None:
        """The live (not deleted) topic with that thread id, or None."""
        topic = self.topics.get(thread_id) if thread_id is not None else None
        return topic if topic is not None and not topic.deleted else None

    def find(self, message_id: int | None) -> ChatMessage | None:
        if message_id is None:
            return None
        # Messages are kept in the order of their ids, which only grow.
        at = bisect.bisect_left(self.messages, message_id, key=lambda message: message.message_id)
        if at < len(self.messages) and self.messages[at].message_id == message_id:
            return self.messages[at]
        return None
