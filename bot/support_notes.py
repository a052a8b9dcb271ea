"""The agents' replies to their own commands in a ticket's topic, in their language (the bot's
default), and a driver's language, for what the agents are told of them.

What the other side of a ticket is told of an action (closed, reopened, rated) is not sent from
here: the service queues it in the outbox with the action (`services.support.Note`).
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram.utils.i18n import I18n

from handlers.common.screen import Screen
from services.container import Services

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
