"""The answer to a tap outside the bot's private chats."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def private_chat_only() -> str:
    return _("This button works only in your own chat with the bot.")
