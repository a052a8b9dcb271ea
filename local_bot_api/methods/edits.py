"""Changing what was sent: editMessageText, editMessageCaption, editMessageReplyMarkup, deleteMessage(s)."""

from __future__ import annotations

import copy
import time
from typing import Any

from local_bot_api.chat import CAPTIONLESS_KINDS, Chat, ChatMessage
from local_bot_api.errors import bad_request
from local_bot_api.formatting import FormattedText
from local_bot_api.keyboards import reply_markup
from local_bot_api.wire import Params

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class EditMethods:
    """The editing and deleting methods; a mixin of `BotAPIServer`."""

    def _message_to_edit(self, params: Params) -> tuple[Chat, ChatMessage]:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not simulated
        if not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        chat = self._chat(params)
        self._check_writable(chat)
        message = chat.find(params.int("message_id", invalid="message identifier is not specified"))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    def _apply_edit(
        self,
        chat: Chat,
        message: ChatMessage,
        *,
        formatted: FormattedText | None,
        raw_text: str | None,
        params: Params,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Change a bot message, refusing edits that change nothing, as Telegram does."""
        old_inline = message.reply_markup if "inline_keyboard" in (message.reply_markup or {}) else None
        same_content = formatted is None or (
            formatted.text == message.text and formatted.entities == message.entities
        )
        if same_content and markup == old_inline:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        raw = message.raw
        if formatted is not None:
            message.text = formatted.text
            message.entities = list(formatted.entities)
            parse_mode = params.str("parse_mode")
            message.parse_mode = parse_mode
            message.html = raw_text if raw_text is not None and (parse_mode or "").lower() == "html" else None
            text_key, entities_key = ("text", "entities") if message.kind == "text" else ("caption", "caption_entities")
            raw.pop(text_key, None)
            raw.pop(entities_key, None)
            if formatted.text:
                raw[text_key] = formatted.text
            if formatted.entities:
                raw[entities_key] = formatted.entities
        # Without reply_markup an edit removes the inline keyboard (a reply keyboard is not
        # attached to the message and stays).
        if markup is not None:
            message.reply_markup = markup
            raw["reply_markup"] = markup
        else:
            if old_inline is not None:
                message.reply_markup = None
            raw.pop("reply_markup", None)
        message.edited = True
        message.edit_count += 1
        raw["edit_date"] = int(time.time())
        chat.activity.append(message)
        self._emit("edited", message)
        return copy.deepcopy(raw)

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        text = params.str("text")
        if not params.has("inline_message_id") and not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        if not text:
            raise bad_request("message text is empty")
        formatted = self._format(params, text)
        markup = reply_markup(params, inline_only=True)
        chat, message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(chat, message, formatted=formatted, raw_text=text, params=params, markup=markup)

    async def _edit_message_caption(self, params: Params) -> dict[str, Any]:
        caption = params.str("caption") or ""
        formatted = self._format(params, caption, caption=True) if caption else FormattedText("", [])
        markup = reply_markup(params, inline_only=True)
        chat, message = self._message_to_edit(params)
        if message.kind == "text" or message.kind in CAPTIONLESS_KINDS:
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(
            chat, message, formatted=formatted, raw_text=caption or None, params=params, markup=markup
        )

    async def _edit_message_reply_markup(self, params: Params) -> dict[str, Any]:
        markup = reply_markup(params, inline_only=True)
        chat, message = self._message_to_edit(params)
        return self._apply_edit(chat, message, formatted=None, raw_text=None, params=params, markup=markup)

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat(params)
        if not params.has("message_id"):
            raise bad_request("message identifier is not specified")
        message = chat.find(params.int("message_id", invalid="message identifier is not specified"))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        self._mark_deleted(message)
        return True

    async def _delete_messages(self, params: Params) -> bool:
        chat = self._chat(params)
        ids = params.json("message_ids", error="can't parse message identifiers JSON object")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a non-empty Array of at most 100 identifiers")
        for message_id in ids:  # messages that cannot be found are skipped, as on Telegram
            message = chat.find(int(message_id)) if str(message_id).lstrip("-").isdigit() else None
            if message is not None and not message.deleted:
                self._mark_deleted(message)
        return True

    def _mark_deleted(self, message: ChatMessage) -> None:
        message.deleted = True
        self._emit("deleted", message)
