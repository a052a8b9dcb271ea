"""Reply markup: inline keyboards, reply keyboards and their removal, checked as Telegram checks them."""

from __future__ import annotations

import json
from typing import Any

from local_bot_api.errors import bad_request
from local_bot_api.limits import MAX_CALLBACK_DATA_BYTES
from local_bot_api.links import checked_link
from local_bot_api.wire import Params

# Telegram's order of button actions: a button keeps only the first one it has.
_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)


def reply_markup(params: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
    """The call's ``reply_markup`` as Telegram keeps it, or None; edits take inline keyboards only."""
    raw = params.values.get("reply_markup")
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            markup = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    else:
        markup = raw
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        return _validate_inline_keyboard(markup)
    if inline_only:
        if any(key in markup for key in ("keyboard", "remove_keyboard", "hide_keyboard", "force_reply")):
            raise bad_request("inline keyboard expected")
        return None
    if "keyboard" in markup:
        return _validate_reply_keyboard(markup)
    if markup.get("remove_keyboard") or markup.get("hide_keyboard"):
        return {"remove_keyboard": True, **({"selective": True} if markup.get("selective") else {})}
    if "force_reply" in markup:
        return dict(markup)
    return None  # an object without a known markup field is ignored, as by Telegram


def _validate_inline_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    """Check an InlineKeyboardMarkup like Telegram and return it as Telegram echoes it back.

    A button keeps only its first action (Telegram's order: url before callback_data, ...),
    so a bot that sets two actions sees what users would actually get.
    """
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    normalized_rows = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        normalized_row = []
        for button in row:
            prefix = "can't parse inline keyboard button: "
            if not isinstance(button, dict):
                raise bad_request(prefix + "InlineKeyboardButton must be an Object")
            if "text" not in button:
                raise bad_request(prefix + 'Can\'t find field "text"')
            text = button["text"]
            if not isinstance(text, str):
                raise bad_request(prefix + 'Field "text" must be of type String')
            action = next((name for name in _INLINE_ACTIONS if _has_inline_action(button, name)), None)
            if action is None:
                raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
            if not text.strip():
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if action == "callback_data" and len(button["callback_data"].encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            if action == "url" and checked_link(button["url"]) is None:
                raise bad_request("BUTTON_URL_INVALID")
            normalized = {"text": text, action: button[action]}
            for optional in ("style", "icon_custom_emoji_id"):
                if button.get(optional):
                    normalized[optional] = button[optional]
            normalized_row.append(normalized)
        normalized_rows.append(normalized_row)
    return {"inline_keyboard": normalized_rows}


def _has_inline_action(button: dict[str, Any], name: str) -> bool:
    value = button.get(name)
    if name in ("url", "callback_data"):
        return isinstance(value, str) and value != ""
    if name in ("switch_inline_query", "switch_inline_query_current_chat"):
        return isinstance(value, str)  # an empty query is valid: it just inserts the bot's name
    if name == "pay":
        return bool(value)
    return isinstance(value, dict)


def _validate_reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
            if not isinstance(text, str):
                raise bad_request("can't parse keyboard button: KeyboardButton must be a String or an Object")
            if not text.strip():
                raise bad_request("keyboard button text must be non-empty")
    return dict(markup)
