"""Background work: expiring holds, releasing freed places, refreshing the hold countdown.

Each step claims its rows in the database (SKIP LOCKED on PostgreSQL), so any number of bot
processes can run these loops and no hold is expired, released or announced twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n

from bot.outgoing import sending_at
from handlers.booking import screens
from handlers.common.screen import Screen
from services.container import Services
from services.outgoing import SILENT

log = logging.getLogger(__name__)


class Workers:
    def __init__(self, bot: Bot, services: Services, i18n: I18n, *, interval: float | None = 5.0) -> None:
        self.bot = bot
        self.services = services
        self.i18n = i18n
        self.interval = interval
        self._stopping = asyncio.Event()

    def start(self) -> list[asyncio.Task]:
        if self.interval is None:  # tests drive the steps themselves with tick()
            return []
        self._stopping.clear()
        return [asyncio.create_task(self._loop(), name="workers")]

    async def stop(self) -> None:
        self._stopping.set()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("worker step failed; trying again in %ss", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)

    async def tick(self) -> None:
        """One round of every step. Its edits are silent and go after the answers to drivers' taps."""
        with sending_at(SILENT):
            await self.expire_holds()
            await self.services.releases.release_due()
            await self.refresh_countdowns()
        for checkpoint in self.services.checkpoints.values():
            await self.services.calendar.ensure(checkpoint)

    async def expire_holds(self) -> None:
        for expired in await self.services.releases.expire_due():
            checkpoint = self.services.checkpoints.get(expired.checkpoint)
            if expired.chat_id is None or expired.message_id is None or checkpoint is None:
                continue
            with self._locale(expired.language):
                screen = screens.hold_expired(checkpoint, expired.truck_id)
                await self._edit(expired.chat_id, expired.message_id, screen)

    async def refresh_countdowns(self) -> None:
        for countdown in await self.services.booking.countdowns():
            checkpoint = self.services.checkpoints.get(countdown.hold.checkpoint)
            if checkpoint is None:
                continue
            language = countdown.language or self.i18n.default_locale
            with self._locale(language):
                screen = screens.hold(checkpoint, countdown.hold, countdown.minutes_left, language)
                await self._edit(countdown.chat_id, countdown.message_id, screen)

    def _locale(self, language: str | None):
        i18n = self.i18n

        @contextlib.contextmanager
        def scope():
            with i18n.context(), i18n.use_locale(language or i18n.default_locale):
                yield

        return scope()

    async def _edit(self, chat_id: int, message_id: int, screen: Screen) -> None:
        try:
            await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **screen.as_kwargs())
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            # Deleted by the driver, unchanged, or the bot blocked: the database stays the truth.
            log.info("could not edit message %s in chat %s: %s", message_id, chat_id, exc.message)
