"""Background work: expiring holds, releasing freed places, telling drivers their hold is ending,
reminding them of their bookings.

Each step claims its rows in the database (SKIP LOCKED on PostgreSQL), so any number of bot
processes can run these loops and no hold is expired, released or announced twice. What a step
has to tell drivers goes out in the background, each chat's messages in their order, paced by the
outgoing budget: a thousand holds expiring at midnight take half a minute of Telegram's 30
messages a second, and the next hold's warning, claimed meanwhile, waits in that queue for its
turn, not behind the whole batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n

from handlers.common.faults import code_trace
from bot.loop import Repeating
from handlers.booking import screens
from handlers.bookings import screens as bookings_screens
from handlers.common.screen import Screen
from services.container import Services
from services.limits.outgoing import ACTION, SILENT, sending_at

log = logging.getLogger(__name__)


class Workers(Repeating):
    name = "workers"

    def __init__(self, bot: Bot, services: Services, i18n: I18n, *, interval: float | None = 5.0,
                 remind_before: timedelta = timedelta(hours=3)) -> None:
        """`interval` None: tests drive the steps themselves with tick()."""
        super().__init__(interval)
        self.bot = bot
        self.remind_before = remind_before
        self.services = services
        self.i18n = i18n
        self._sending: set[asyncio.Task] = set()

    async def step(self) -> None:
        await self.tick(wait=False)

    async def tick(self, *, wait: bool = True) -> None:
        """One round of every step. Its edits are silent and go after the answers to drivers' taps;
        its new messages (a hold ending or ended, a reminder) are notices the driver must act on.
        `wait`: return once they are sent (tests), else while they go out."""
        with sending_at(SILENT):
            await self.expire_holds()
            await self.services.releases.release_due()
            await self.warn_holds()
            await self.remind_bookings()
        for checkpoint in self.services.checkpoints.values():
            await self.services.calendar.ensure(checkpoint)
        if wait:
            await self.sent()

    async def sent(self) -> None:
        """Every message the steps so far had to send, sent (or given up)."""
        while self._sending:
            await asyncio.wait(list(self._sending))

    async def stop(self, timeout: float = 10.0) -> None:
        await super().stop()
        if self._sending:
            _, late = await asyncio.wait(list(self._sending), timeout=timeout)
            for task in late:
                task.cancel()

    def _later(self, telling: Coroutine, what: str) -> None:
        task = asyncio.ensure_future(telling)
        self._sending.add(task)

        def done(task: asyncio.Task) -> None:
            self._sending.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.error("workers: %s failed:\n%s", what, code_trace(task.exception()))

        task.add_done_callback(done)

    async def expire_holds(self) -> None:
        """The hold's message loses its Confirm button, and a new message (which rings, as an edit
        does not) tells the driver, with Start again."""
        for expired in await self.services.releases.expire_due():
            checkpoint = self.services.checkpoints.get(expired.checkpoint)
            if expired.chat_id is None or expired.message_id is None or checkpoint is None:
                continue
            self._later(self._tell_expired(expired, checkpoint), f"telling chat {expired.chat_id} its hold expired")

    async def _tell_expired(self, expired, checkpoint) -> None:
        with self._locale(expired.language):
            screen = screens.hold_expired(checkpoint, expired.truck_id)
            await self._edit(expired.chat_id, expired.message_id, Screen(screen.text))
            await self._send(expired.chat_id, screen)

    async def warn_holds(self) -> None:
        """A few minutes before a hold ends: a new message with Confirm, which rings."""
        for ending in await self.services.booking.warnings():
            checkpoint = self.services.checkpoints.get(ending.hold.checkpoint)
            if checkpoint is None:
                continue
            language = ending.language or self.i18n.default_locale
            with self._locale(language):
                screen = screens.hold_ending(checkpoint, ending.hold, ending.minutes_left, language)
            self._later(self._send(ending.chat_id, screen), f"warning chat {ending.chat_id} of its hold's end")

    async def remind_bookings(self) -> None:
        """Some hours before a booked time: a new message with "I'm on my way" and "Cancel booking"."""
        for due in await self.services.reminders.due(self.remind_before):
            checkpoint = self.services.checkpoints.get(due.booking.checkpoint)
            if checkpoint is None:
                continue
            language = due.language or self.i18n.default_locale
            with self._locale(language):
                screen = bookings_screens.reminder(checkpoint, due.booking, language)
            self._later(self._send(due.booking.account_id, screen), f"reminding chat {due.booking.account_id}")

    def _locale(self, language: str | None):
        i18n = self.i18n

        @contextlib.contextmanager
        def scope():
            with i18n.context(), i18n.use_locale(language or i18n.default_locale):
                yield

        return scope()

    async def _send(self, chat_id: int, screen: Screen) -> None:
        try:
            with sending_at(ACTION):
                await self.bot.send_message(chat_id=chat_id, **screen.as_kwargs())
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            log.info("could not send to chat %s: %s", chat_id, exc.message)

    async def _edit(self, chat_id: int, message_id: int, screen: Screen) -> None:
        try:
            await self.bot.edit_message_text(chat_id=chat_id, message_id=message_id, **screen.as_kwargs())
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            # Deleted by the driver, unchanged, or the bot blocked: the database stays the truth.
            log.info("could not edit message %s in chat %s: %s", message_id, chat_id, exc.message)
