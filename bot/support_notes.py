"""What each side of a ticket is told of the other's actions (closed, reopened, rated, taken), and the
canned answers an agent sends: each rendered in its reader's language (the driver's own, or the
agents', the bot's default) and sent as the bot's own message.

Apart from `bot.support.SupportRelay`, which copies what people write; these are the bot's words.
A canned answer (`/faq NAME`) is an agent's reply like any other, stored by the relay and sent by
the support sender, which renders it from the catalogs in the driver's language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import Message, ReplyParameters
from aiogram.utils.i18n import I18n

from handlers.common.screen import Screen
from services.container import Services
from services.limits.outgoing import ACTION, sending_at
from services.support.views import TicketView

log = logging.getLogger(__name__)
Render = Callable[[str], Screen]  # a screen in the language given, rendered in that locale


class SupportNotes:
    def __init__(self, services: Services, i18n: I18n, group_id: int | None) -> None:
        self.services = services
        self.support = services.support
        self.i18n = i18n
        self.group_id = group_id

    @property
    def agents_language(self) -> str:
        return self.i18n.default_locale

    def in_agents_language(self, render: Render) -> Screen:
        with self.i18n.use_locale(self.agents_language):
            return render(self.agents_language)

    async def driver_language(self, account_id: int) -> str:
        return await self.services.accounts.language_of(account_id) or self.i18n.default_locale

    async def tell_driver(self, bot: Bot, account_id: int, render: Render) -> Message | None:
        """The screen, in the driver's language, in their chat; None if it did not reach them."""
        language = await self.driver_language(account_id)
        with self.i18n.use_locale(language):
            screen = render(language)
        try:
            with sending_at(ACTION):
                return await bot.send_message(account_id, **screen.as_kwargs())
        except (TelegramForbiddenError, TelegramBadRequest) as exc:
            log.info("support: could not tell account %s: %s", account_id, exc.message)
            return None

    async def tell_topic(self, bot: Bot, ticket: TicketView, render: Render, reply_to: int | None = None) -> None:
        """The screen, in the agents' language, in the ticket's topic (if it has one)."""
        if self.group_id is None or ticket.thread_id is None:
            return
        screen = self.in_agents_language(render)
        reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                 if reply_to is not None else None)
        try:
            with sending_at(ACTION):
                await bot.send_message(self.group_id, message_thread_id=ticket.thread_id, reply_parameters=reply,
                                       **screen.as_kwargs())
        except TelegramAPIError as exc:
            log.warning("support: could not post in the topic of ticket %s: %r", ticket.id, exc)
