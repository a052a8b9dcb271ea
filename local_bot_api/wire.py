"""The Bot API's wire format: parameters of a call in any encoding Telegram accepts, JSON answers."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from local_bot_api.errors import ApiError, bad_request
from local_bot_api.media import UploadedFile

# Only for the readable request log (`BotAPIServer.requests`): which strings are numbers, flags, JSON.
_INT_PARAMS = {
    "chat_id", "message_id", "from_chat_id", "offset", "limit", "timeout", "reply_to_message_id",
    "cache_time", "message_thread_id", "user_id", "max_connections", "live_period", "heading",
    "proximity_alert_radius", "icon_color", "duration",
}
_BOOL_PARAMS = {
    "disable_notification", "protect_content", "show_alert", "disable_web_page_preview",
    "allow_sending_without_reply", "drop_pending_updates", "has_spoiler", "show_caption_above_media",
    "allow_paid_broadcast", "disable_content_type_detection", "remove_caption",
}
_JSON_PARAMS = {
    "reply_markup", "entities", "caption_entities", "commands", "scope", "reply_parameters",
    "link_preview_options", "menu_button", "allowed_updates", "message_ids", "rights",
}


class Params:
    """Parameters of one call, from any encoding the Bot API accepts.

    aiogram posts multipart/form-data where every value is a string and complex values are JSON
    strings; other clients post JSON or urlencoded bodies, or use the query string.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def int(self, name: str, *, invalid: str | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(invalid or f"invalid {name} specified") from None

    def float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str, *, error: str | None = None) -> Any:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {name} JSON object") from None
        return value

    def file(self, name: str) -> str | UploadedFile | None:
        """A file parameter: a file_id/URL string, or an upload (directly or via ``attach://``)."""
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.values.get(value[len("attach://") :])
        if value in (None, ""):
            return None
        return value

    def decoded(self) -> dict[str, Any]:
        """A readable copy for the request log: numbers as ints, flags as bools, JSON decoded."""
        result: dict[str, Any] = {}
        for name, value in self.values.items():
            if isinstance(value, str):
                if name in _INT_PARAMS and re.fullmatch(r"-?\d+", value.strip()):
                    value = int(value)
                elif name in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0"):
                    value = value.lower() in ("true", "1")
                elif name in _JSON_PARAMS:
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
            result[name] = value
        return result


async def read_params(request: web.Request) -> Params:
    """Merge query-string and body parameters (multipart, urlencoded or JSON), like the Bot API."""
    values: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return Params(values)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON object expected as request body")
        values.update(body)
    elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                values[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                values[name] = value
    return Params(values)


def token_bot_id(token: str) -> int | None:
    """The bot's user id: the number before the colon of its token."""
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_result(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def json_error(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.code, dumps=_dumps)
