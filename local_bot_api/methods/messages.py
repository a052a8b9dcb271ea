"""Sending: sendMessage, the media senders, copyMessage, forwardMessage, sendChatAction, and the one
send path they share (formatting, markup, reply target, topic, permissions, flood limits, delivery)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from local_bot_api import media
from local_bot_api.chat import CAPTIONLESS_KINDS, Chat, ChatMessage, ForumTopic
from local_bot_api.errors import bad_request
from local_bot_api.formatting import FormattedText, format_text
from local_bot_api.keyboards import reply_markup
from local_bot_api.limits import take_send_slot, too_many_requests
from local_bot_api.media import UploadedFile
from local_bot_api.wire import Params

_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}

# Kinds sent as a file (an upload, a URL or a file_id), and copied with it.
_FILE_KINDS = ("photo", "document", "voice", "sticker", "video", "video_note", "animation", "audio")


def _file_media(kind: str, params: Params) -> dict[str, Any]:
    """What a message of that kind carries of the file the bot sent: a file_id sent again keeps its
    id; the rest is what the request says, or what a phone's file would have."""
    source = params.file(kind)
    if source is None:
        raise bad_request(f"there is no {kind} in the request")
    reused = source if isinstance(source, str) and not source.startswith(("http://", "https://")) else None
    upload = source if isinstance(source, UploadedFile) else None
    name, mime = (upload.filename, upload.content_type) if upload else (None, None)
    size = upload.size if upload else 1024
    duration = params.int("duration") or 0
    width, height = params.int("width") or 1280, params.int("height") or 720
    if kind == "photo":
        return {"photo": media.photo_sizes(1280, 960, reused)}
    if kind == "video":
        return {"video": media.video(duration, width, height, file_name=name, mime_type=mime or "video/mp4",
                                     size=size, file_id=reused)}
    if kind == "video_note":
        return {"video_note": media.video_note(duration, params.int("length") or 384, size=size, file_id=reused)}
    if kind == "animation":
        return media.animation_message(media.animation(duration, width, height, file_name=name or "animation.mp4",
                                                       mime_type=mime or "video/mp4", size=size, file_id=reused))
    if kind == "audio":
        return {"audio": media.audio(duration, performer=params.str("performer"), title=params.str("title"),
                                     file_name=name, mime_type=mime or "audio/mpeg", size=size, file_id=reused)}
    file_id, unique_id = media.file_ids(kind)
    found: dict[str, Any] = {"file_id": reused or file_id, "file_unique_id": unique_id}
    if kind == "document":
        found.update(file_name=name or "document", mime_type=mime or "application/octet-stream", file_size=size)
    elif kind == "voice":
        found.update(duration=duration, mime_type=mime or "audio/ogg", file_size=size)
    else:  # sticker
        found.update(type="regular", width=512, height=512, is_animated=False, is_video=False,
                     emoji=params.str("emoji") or "🙂")
    return {kind: found}


class MessageMethods:
    """The sending methods; a mixin of `BotAPIServer`."""

    def _check_rate(self, chat: Chat) -> None:
        """Take one send from the global and the chat's flood limit, or answer 429."""
        if not self.limits.enabled:
            return
        wait = take_send_slot(
            self.limits, self._global_bucket, chat.bucket, private=chat.is_private, now=self.clock(),
            chat_clock_ahead=chat.think_skew,
        )
        if wait > 0:
            self.limit_violations += 1
            raise too_many_requests(wait)

    def _format(self, params: Params, text: str, *, caption: bool = False) -> FormattedText:
        entities_name = "caption_entities" if caption else "entities"
        formatted = format_text(
            text,
            params.str("parse_mode"),
            params.json(entities_name, error="can't parse entities JSON object"),
            caption=caption,
        )
        for entity in formatted.entities:
            if entity["type"] == "text_mention":
                known = self._users.get(entity["user"]["id"])
                if known is not None:
                    entity["user"] = known.as_user()
        return formatted


    def _reply_target(self, chat: Chat, params: Params) -> ChatMessage | None:
        reply = params.json("reply_parameters", error="can't parse reply parameters JSON object")
        allow = params.bool("allow_sending_without_reply")
        message_id: Any = None
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.chat_id, str(chat.chat_id)):
                return None  # replies across chats are not simulated
        elif reply is not None:
            raise bad_request("object expected as reply parameters")
        elif params.has("reply_to_message_id"):
            message_id = params.int("reply_to_message_id")
        if message_id in (None, 0):
            return None
        target = chat.find(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _deliver_bot_message(
        self,
        chat: Chat,
        params: Params,
        *,
        kind: str,
        formatted: FormattedText,
        raw_text: str | None,
        markup: dict[str, Any] | None,
        reply_to: ChatMessage | None,
        extra: dict[str, Any] | None = None,
        topic: ForumTopic | None = None,
    ) -> ChatMessage:
        """Store a message the bot sent (all checks passed) and tell whoever waits for it."""
        inline = markup if markup and "inline_keyboard" in markup else None
        message, raw = self._new_message(
            chat, from_bot=True, sender=self.bot_user(), kind=kind, text=formatted.text,
            entities=formatted.entities, extra=extra, reply_to=reply_to, inline_markup=inline, topic=topic,
        )
        parse_mode = params.str("parse_mode")
        message.parse_mode = parse_mode
        if raw_text is not None and (parse_mode or "").lower() == "html":
            message.html = raw_text
        message.reply_markup = markup
        if params.bool("protect_content"):
            raw["has_protected_content"] = True
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.activity.append(message)
        self._emit("sent", message)
        return message


    async def _send_message(self, params: Params) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise bad_request("chat_id is empty")
        text = params.str("text")
        if not text:
            raise bad_request("message text is empty")
        formatted = self._format(params, text)
        message = self._send_to_chat(params, kind="text", formatted=formatted, raw_text=text)
        return copy.deepcopy(message.raw)

    def _media_sender(self, kind: str) -> Callable[[Params], Any]:
        async def handler(params: Params) -> dict[str, Any]:
            return await self._send_media(params, kind)

        return handler

    async def _send_media(self, params: Params, kind: str) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise bad_request("chat_id is empty")
        extra: dict[str, Any]
        caption = ""
        if kind in _FILE_KINDS:
            extra = _file_media(kind, params)
            if kind not in CAPTIONLESS_KINDS:
                caption = params.str("caption") or ""
        elif kind == "location":
            latitude, longitude = params.float("latitude"), params.float("longitude")
            if latitude is None or longitude is None:
                raise bad_request("latitude is empty" if latitude is None else "longitude is empty")
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise bad_request("wrong latitude or longitude specified")
            extra = {"location": {"latitude": latitude, "longitude": longitude}}
        else:  # contact
            phone, first_name = params.str("phone_number"), params.str("first_name")
            if not phone:
                raise bad_request("phone_number is empty")
            if not first_name:
                raise bad_request("first_name is empty")
            contact = {"phone_number": phone, "first_name": first_name}
            if params.has("last_name"):
                contact["last_name"] = params.str("last_name") or ""
            extra = {"contact": contact}
        formatted = self._format(params, caption, caption=True) if caption else FormattedText("", [])
        message = self._send_to_chat(params, kind=kind, formatted=formatted, raw_text=caption or None, extra=extra)
        return copy.deepcopy(message.raw)

    def _source_message(self, params: Params, verb: str) -> ChatMessage:
        if not params.has("from_chat_id"):
            raise bad_request("from_chat_id is empty")
        if not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        source_chat = self._chat(params, "from_chat_id")
        source = source_chat.find(params.int("message_id"))
        if source is None or source.deleted:
            raise bad_request(f"message to {verb} not found")
        return source

    def _copy_content(self, source: ChatMessage, verb: str) -> tuple[str, dict[str, Any]]:
        if source.is_service:
            raise bad_request(f"message can't be {verb}")
        extra = {
            key: copy.deepcopy(value)
            for key, value in source.raw.items()
            if key in _FILE_KINDS or key in ("location", "contact")
        }
        return source.kind, extra

    def _send_to_chat(self, params: Params, *, kind: str, formatted: FormattedText, raw_text: str | None,
                      extra: dict[str, Any] | None = None) -> ChatMessage:
        """What every send shares, in Telegram's order: the markup, the chat, the message replied
        to and the topic are checked, then whether the bot may write there and whether it is within
        the flood limits; only then is the message delivered, so a refused message never appears in
        the chat."""
        markup = reply_markup(params)
        chat = self._chat(params)
        reply_to = self._reply_target(chat, params)
        topic = self._send_topic(chat, params, reply_to)
        if reply_to is not None and topic is not None and reply_to.thread_id != topic.thread_id:
            # Telegram's replies stay in the topic of the message they answer.
            if not self._allows_sending_without_reply(params):
                raise bad_request("message to be replied not found")
            reply_to = None
        self._check_writable(chat)
        self._check_rate(chat)
        return self._deliver_bot_message(
            chat, params, kind=kind, formatted=formatted, raw_text=raw_text, markup=markup, reply_to=reply_to,
            extra=extra, topic=topic,
        )

    @staticmethod
    def _allows_sending_without_reply(params: Params) -> bool:
        reply = params.json("reply_parameters")
        return params.bool("allow_sending_without_reply") or (
            isinstance(reply, dict) and bool(reply.get("allow_sending_without_reply"))
        )

    async def _copy_message(self, params: Params) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise bad_request("chat_id is empty")
        source = self._source_message(params, "copy")
        kind, extra = self._copy_content(source, "copied")
        if kind != "text" and kind not in CAPTIONLESS_KINDS and "caption" in params.values:
            caption = params.str("caption") or ""
            formatted = self._format(params, caption, caption=True) if caption else FormattedText("", [])
            raw_text = caption or None
        else:
            formatted = FormattedText(source.text, copy.deepcopy(source.entities))
            raw_text, params.values["parse_mode"] = source.html, source.parse_mode
        message = self._send_to_chat(params, kind=kind, formatted=formatted, raw_text=raw_text, extra=extra)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: Params) -> dict[str, Any]:
        if not params.has("chat_id"):
            raise bad_request("chat_id is empty")
        source = self._source_message(params, "forward")
        kind, extra = self._copy_content(source, "forwarded")
        chat = self._chat(params)
        topic = self._send_topic(chat, params, None)
        self._check_writable(chat)
        self._check_rate(chat)
        params.values["parse_mode"] = source.parse_mode
        message = self._deliver_bot_message(
            chat, params, kind=kind, formatted=FormattedText(source.text, copy.deepcopy(source.entities)),
            raw_text=source.html, markup=None, reply_to=None, extra=extra, topic=topic,
        )
        message.raw["forward_origin"] = {"type": "user", "sender_user": source.raw["from"], "date": source.date}
        return copy.deepcopy(message.raw)

    async def _send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        action = params.str("action")
        if not action:
            raise bad_request("action is empty")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_writable(chat)
        chat.actions.append(action)
        return True
