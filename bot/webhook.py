"""aiogram's webhook handler, as the bot's web app serves it (bot/web.py)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.webhook.aiohttp_server import SimpleRequestHandler


class Webhook(SimpleRequestHandler):
    """aiogram's handler, where a secret header that is not ASCII (Cyrillic, bytes that are not
    UTF-8) is a wrong secret, answered 401 like any other: `secrets.compare_digest` takes ASCII
    strings only, and raised a TypeError (a 500 and a traceback)."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        if self.secret_token and not telegram_secret_token.isascii():
            return False
        return super().verify_secret(telegram_secret_token, bot)
