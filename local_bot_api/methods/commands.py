"""How the bot presents itself: commands per scope and language, name and descriptions, menu button."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from local_bot_api.errors import bad_request
from local_bot_api.wire import Params

_SCOPE_TYPES = {
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
}
# The longest name and descriptions the Bot API accepts (setMyName, setMyDescription, setMyShortDescription).
_BOT_TEXT_LIMITS = {"name": 64, "description": 512, "short_description": 120}


class CommandMethods:
    """setMyCommands and its kin, setMyName/Description, setChatMenuButton; a mixin of `BotAPIServer`."""

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.json("scope", error="can't parse BotCommandScope JSON object")
        language = params.str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return _scope_key(scope), language

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.json("commands", error="can't parse commands JSON object")
        if commands is None:
            raise bad_request("commands is empty")
        if not isinstance(commands, list):
            raise bad_request("field \"commands\" must be an Array")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("BotCommand must be an Object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = self._commands_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)  # an empty list deletes the commands, as on Telegram
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_bot_text(self, field_name: str) -> Callable[[Params], Any]:
        async def handler(params: Params) -> bool:
            language = params.str("language_code") or ""
            value = params.str(field_name) or ""
            if len(value) > _BOT_TEXT_LIMITS[field_name]:
                raise bad_request(f"{field_name.upper()}_INVALID")
            if value:
                self.descriptions[(field_name, language)] = value
            else:
                self.descriptions.pop((field_name, language), None)
            return True

        return handler

    def _get_bot_text(self, field_name: str) -> Callable[[Params], Any]:
        async def handler(params: Params) -> dict[str, str]:
            language = params.str("language_code") or ""
            default = self.bot_first_name if field_name == "name" else ""
            value = self.descriptions.get((field_name, language), self.descriptions.get((field_name, ""), default))
            return {field_name: value}

        return handler

    async def _set_chat_menu_button(self, params: Params) -> bool:
        button = params.json("menu_button", error="can't parse menu button JSON object") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad_request("unsupported menu button type")
        if params.has("chat_id"):
            chat = self._chat(params)
            chat.menu_button = button
        else:
            self.default_menu_button = button
        return True

    async def _get_chat_menu_button(self, params: Params) -> dict[str, Any]:
        if params.has("chat_id"):
            chat = self._chat(params)
            if chat.menu_button and chat.menu_button.get("type") != "default":
                return chat.menu_button
        if self.default_menu_button.get("type") == "default":
            return {"type": "commands"}
        return self.default_menu_button


def _scope_key(scope: Any) -> str:
    """Key of a BotCommandScope in `BotAPIServer.commands`.

    Scopes bound to a chat or member include it ("chat:42", "chat_member:-100:42"), otherwise
    commands for different chats would overwrite each other.
    """
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
        raise bad_request("unsupported bot command scope type")
    kind = scope["type"]
    if kind in ("chat", "chat_administrators"):
        if scope.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        return f"{kind}:{scope['chat_id']}"
    if kind == "chat_member":
        return f"{kind}:{scope.get('chat_id')}:{scope.get('user_id')}"
    return kind

