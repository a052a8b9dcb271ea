"""The language first: a driver who has not chosen one, and whose Telegram app speaks none of ours
(English, German, or none said), is answered with the choice of language in all three, whatever they
sent (/book, /help, a plate, a sticker), not in a language they may not read. What they sent is
kept, and once they choose, it is handled as if it came just then: in the language chosen, /book
goes on to the booking, /support to the agents.

It is kept in the conversation's data (the message as Telegram sent it, as JSON), the latest one
only; /start begins afresh and forgets it. Handled again by the dispatcher, so every feature answers
it as its own, and none is imported here.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, Update

from handlers.common.conversation import StateUnavailable
from services.accounts.accounts import AccountView, language_from_client

ASKED = "asked"  # the conversation's data: the update the choice of language answered


class NoLanguageYet(Filter):
    """No language chosen, and none the app speaks that we do."""

    async def __call__(self, message: Message, account: AccountView | None = None) -> bool:
        client = message.from_user.language_code if message.from_user else None
        return account is not None and account.language is None and language_from_client(client) is None


async def keep_asked(state: FSMContext, message: Message, update: Update) -> None:
    """Keep what was sent, for the choice to answer; the newest request wins over a checkpoint's
    link followed before it. While the state cannot be had, the choice is shown all the same."""
    asked = {"update_id": update.update_id, "message": message.model_dump(mode="json", exclude_none=True,
                                                                          by_alias=True)}
    with suppress(StateUnavailable):
        await state.update_data({ASKED: asked, "checkpoint": None})


async def take_asked(state: FSMContext) -> dict[str, Any] | None:
    """What was kept, forgotten as it is taken: it is answered once."""
    asked = (await state.get_data()).get(ASKED)
    if asked is not None:
        await state.update_data({ASKED: None})
    return asked


async def answer_asked(asked: dict[str, Any], dispatcher: Dispatcher, bot: Bot) -> None:
    """Handle the kept message now, as the dispatcher handles any (the language is the account's now)."""
    update = Update.model_validate({"update_id": asked["update_id"], "message": asked["message"]},
                                   context={"bot": bot})
    await dispatcher.feed_update(bot, update)
